"""The privacy framework (core.privacy): every app's export section, every app's eraser in reverse order."""

from core.privacy import EXPORT_FORMAT, eraser_registry, exporter_registry, privacy_erase, privacy_export


def test_the_export_holds_every_section_in_order_as_json(override):
    from datetime import date
    from decimal import Decimal

    override(exporter_registry, {"first": lambda customer: {"on": date(2026, 1, 2)}, "second": lambda customer: [Decimal("1.50")]})

    document = privacy_export(object())

    assert list(document) == ["format", "exported_at", "first", "second"]
    assert document["format"] == EXPORT_FORMAT
    assert document["first"] == {"on": "2026-01-02"} and document["second"] == ["1.50"]


def test_erasers_run_the_apps_above_first_and_get_who_erased(override):
    calls = []
    override(eraser_registry, {
        name: (lambda customer, *, by, name=name: calls.append((name, customer, by))) for name in ("crm", "club", "campaigns")
    })

    privacy_erase("the customer", by="staff")

    assert calls == [("campaigns", "the customer", "staff"), ("club", "the customer", "staff"), ("crm", "the customer", "staff")]
