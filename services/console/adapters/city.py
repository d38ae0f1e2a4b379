"""The district's map and names from the city data (the simcity export the router also loads): grid
polygons with coordinates rounded for the browser, street / community / department names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.console.domain.users import User


@dataclass(frozen=True)
class City:
    map: dict[str, Any]  # GeoJSON-like: bbox and one feature per grid, properties trimmed
    names: dict[str, str]  # street, community, grid and department ids → names


def load_city(directory: Path) -> City:
    grids = json.loads((directory / "grids.geojson").read_text())
    names: dict[str, str] = {}
    features = []
    for f in grids["features"]:
        p = f["properties"]
        names.update({p["street_id"]: p["street_name"], p["community_id"]: p["community_name"],
                      p["grid_id"]: p["name"]})
        ring = [[round(x, 5), round(y, 5)] for x, y in f["geometry"]["coordinates"][0]]
        features.append({"id": p["grid_id"], "ring": ring, "street_id": p["street_id"],
                         "community_id": p["community_id"], "kind": p["kind"], "name": p["name"]})
    directory_file = directory / "directory.json"
    if directory_file.exists():
        people = json.loads(directory_file.read_text())
        names.update({d["code"]: d["name"] for d in people.get("departments", [])})
    return City(map={"district": grids.get("district"), "bbox": grids["bbox"], "grids": features}, names=names)


def load_users(path: Path) -> dict[str, User]:
    """Users as configuration data; a malformed entry stops the console at start with its index."""
    entries = yaml.safe_load(path.read_text()) or {}
    users: dict[str, User] = {}
    for i, entry in enumerate(entries.get("users", [])):
        try:
            user = User.model_validate(entry)
        except ValueError as exc:
            raise ValueError(f"{path}: users[{i}]: {exc}") from exc
        users[user.username] = user
    return users
