"""The router decides a poll's incidents ahead of their batch (the consumer loop's `Preparer`): the
handler uses those decisions only under the tables they were made with, and decides the rest itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord

from runtime.batch import Delivery
from schemas.cloudevents import decode, encode
from schemas.common import Channel
from schemas.incident import IncidentReported, Location, Reporter
from schemas.topics import INTAKE_HOTLINE
from services.router.domain.classify import Classifier
from services.router.domain.decide import RoutingTables, route
from services.router.domain.duplicates import DuplicatePolicy
from services.router.domain.locate import Gazetteer
from services.router.domain.responsibility import ResponsibilityList
from services.router.handlers.context import RouterContext, TablesHolder
from services.router.handlers.incidents import Decided, _route_all, prepare_incidents
from simcity.export import city_to_gazetteer, city_to_geojson
from simcity.generate import generate_city

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TEXTS = ("楼下垃圾乱堆乱放好几天了", "门口井盖破损了很危险", "小区电梯困人了快来", "路灯不亮很久了")


def _delivery(n: int, text: str) -> Delivery:
    incident = IncidentReported(incident_id=f"HL-{n}", channel=Channel.HOTLINE, source_id=str(n),
                                reporter=Reporter(kind="citizen"), text=text, location=Location(address="某路1号"),
                                reported_at=AT, received_at=AT)
    out = encode(INTAKE_HOTLINE, incident.incident_id, incident, type="gov.gridline.incident.reported.v1",
                 source="/test", event_id=f"ev-{n}")
    record = ConsumerRecord(INTAKE_HOTLINE, 0, n, 0, 0, out.key, out.value, None, 0, 0, out.headers)
    return Delivery(record, decode(out.key, out.value, out.headers))


async def test_decisions_made_ahead_are_used_under_their_tables_only(repo_list: ResponsibilityList,
                                                                     classifier: Classifier) -> None:
    city = generate_city()
    tables = RoutingTables(repo_list, classifier, Gazetteer(city_to_geojson(city), city_to_gazetteer(city)))
    ctx = RouterContext(pool=None, tables=TablesHolder(tables), clock=lambda: AT,  # type: ignore[arg-type]
                        duplicates=DuplicatePolicy(500, timedelta(hours=72)))
    deliveries = [_delivery(n, text) for n, text in enumerate(TEXTS)]
    prepare_incidents(ctx, deliveries[:3])  # the last one arrives undecided
    assert all(isinstance(d.prepared, Decided) for d in deliveries[:3]) and deliveries[3].prepared is None
    incidents = [d.envelope.payload(IncidentReported) for d in deliveries]
    expected = [route(i, tables) for i in incidents]
    assert await _route_all(deliveries, incidents, tables) == expected

    # a decision made ahead is taken as it is (not decided again) …
    marked = replace(expected[0], candidates=("MARK",))
    deliveries[0].prepared = Decided(tables, incidents[0], marked)
    assert (await _route_all(deliveries, incidents, tables))[0] is marked
    # … but not after a reload: other tables decide again
    reloaded = replace(tables, confidence_threshold=tables.confidence_threshold)
    assert (await _route_all(deliveries, incidents, reloaded))[0] == route(incidents[0], reloaded)
