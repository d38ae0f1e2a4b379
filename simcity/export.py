"""Export the city as the three files the router loads: grids.geojson, gazetteer.json, directory.json.

The formats are documented in simcity/README.md. Only ``write_city`` does I/O.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simcity.model import City, Grid

FORMAT = "gridline-simcity/1"


def _header(city: City) -> dict[str, Any]:
    return {"format": FORMAT, "version": city.version, "seed": city.seed,
            "district": city.district, "district_en": city.district_en}


def grid_properties(grid: Grid, city_names: dict[str, str]) -> dict[str, Any]:
    props = grid.model_dump(mode="json", exclude={"ring"})
    props["street_name"] = city_names[grid.street_id]
    props["community_name"] = city_names[grid.community_id]
    return props


def _names(city: City) -> dict[str, str]:
    names = {s.street_id: s.name for s in city.streets}
    names.update({c.community_id: c.name for c in city.communities})
    return names


def city_to_geojson(city: City) -> dict[str, Any]:
    """A GeoJSON FeatureCollection, one Polygon feature per grid (``id`` = grid_id)."""
    names = _names(city)
    features = [
        {
            "type": "Feature",
            "id": g.grid_id,
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in g.ring]]},
            "properties": grid_properties(g, names),
        }
        for g in city.grids
    ]
    return {"type": "FeatureCollection", **_header(city), "bbox": list(city.bbox), "features": features}


def city_to_gazetteer(city: City) -> dict[str, Any]:
    """Place names for address → grid resolution: streets, communities, roads, compounds, units."""
    roads: dict[str, dict[str, Any]] = {}
    for s in city.road_segments:
        road = roads.setdefault(s.road, {"name": s.road, "orientation": s.orientation, "segments": []})
        road["segments"].append({"from_no": s.from_no, "to_no": s.to_no, "grid_id": s.grid_id,
                                 "start": list(s.start), "end": list(s.end)})
    units = [
        {"name": g.unit, "dedicated_type": g.dedicated_type, "unit_department": g.unit_department,
         "grid_id": g.grid_id, "lon": g.centroid_lon, "lat": g.centroid_lat}
        for g in city.grids if g.unit
    ]
    return {
        **_header(city),
        "streets": [{"street_id": s.street_id, "name": s.name} for s in city.streets],
        "communities": [{"community_id": c.community_id, "street_id": c.street_id, "name": c.name,
                         "kind": c.kind} for c in city.communities],
        "roads": list(roads.values()),
        "compounds": [c.model_dump(mode="json") for c in city.compounds],
        "units": units,
    }


def city_to_directory(city: City) -> dict[str, Any]:
    """Who is who: departments, the district centre, streets (with police stations), communities, workers."""
    return {
        **_header(city),
        "centre": city.centre,
        "departments": [d.model_dump(mode="json") for d in city.departments],
        "streets": [s.model_dump(mode="json") for s in city.streets],
        "communities": [c.model_dump(mode="json") for c in city.communities],
        "workers": [w.model_dump(mode="json") for w in city.workers],
    }


def _dump(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_city(city: City, directory: Path) -> None:
    """Write grids.geojson, gazetteer.json and directory.json (UTF-8) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    _dump(city_to_geojson(city), directory / "grids.geojson")
    _dump(city_to_gazetteer(city), directory / "gazetteer.json")
    _dump(city_to_directory(city), directory / "directory.json")
