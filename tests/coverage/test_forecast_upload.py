import io
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import MaterialFactory, OrganizationFactory
from vault.core.errors import InvalidInput
from vault.coverage import services
from vault.coverage.errors import ForecastRowsInvalid
from vault.coverage.models import ConsumptionForecast, ForecastVersion
from vault.coverage.selectors import coverage_inputs

D = Decimal


def upload(text: str, by, **kwargs):
    return services.forecast_import_csv(file=io.StringIO(text), by=by, source="csv:test.csv", **kwargs)


def current(material):
    return dict(
        ConsumptionForecast.objects.filter(material=material, superseded_by__isnull=True).values_list(
            "month", "quantity"
        )
    )


def test_csv_upload_creates_a_version(material, manager):
    version = upload("material,month,quantity\nNDPR-OX,2026-07,1200.5\nNDPR-OX,2026-08,1300\n", manager)
    assert (version.row_count, version.superseded_count, version.source) == (2, 0, "csv:test.csv")
    assert version.created_by == manager
    assert current(material) == {date(2026, 7, 1): D("1200.500"), date(2026, 8, 1): D("1300.000")}


def test_new_upload_supersedes_the_materials_it_covers_and_keeps_the_old_rows(material, manager):
    other = MaterialFactory(code="DY-OX")
    first = upload("material,month,quantity\nNDPR-OX,2026-07,100\nNDPR-OX,2026-08,100\nDY-OX,2026-07,5\n", manager)
    second = upload("material,month,quantity\nNDPR-OX,2026-09,200\n", manager)

    assert current(material) == {date(2026, 9, 1): D("200.000")}
    assert current(other) == {date(2026, 7, 1): D("5.000")}  # not covered by the second upload
    assert second.superseded_count == 2
    old = ConsumptionForecast.objects.filter(version=first, material=material)
    assert old.count() == 2 and all(row.superseded_by_id == second.pk for row in old)
    assert ForecastVersion.objects.count() == 2


def test_participant_forecasts_supersede_separately_and_add_up(material, manager):
    acme = OrganizationFactory(code="ACME-MOTORS")
    OrganizationFactory(code="AEROFORGE")
    upload(
        "material,month,quantity,organization\n"
        "NDPR-OX,2026-07,100,ACME-MOTORS\nNDPR-OX,2026-07,50,AEROFORGE\nNDPR-OX,2026-07,10,\n",
        manager,
    )
    upload("material,month,quantity,organization\nNDPR-OX,2026-07,300,ACME-MOTORS\n", manager)
    rows = ConsumptionForecast.objects.filter(superseded_by__isnull=True).values_list("organization__code", "quantity")
    assert sorted(rows, key=str) == sorted(
        [("ACME-MOTORS", D("300")), ("AEROFORGE", D("50")), (None, D("10"))], key=str
    )
    inputs = coverage_inputs(today=date(2026, 7, 1), material_ids=[material.pk])[0]
    assert inputs.monthly_demand == {date(2026, 7, 1): D("360.000")}
    assert acme.pk in set(ConsumptionForecast.objects.values_list("organization_id", flat=True))


def test_one_row_replaces_only_its_month(material, manager):
    upload("material,month,quantity\nNDPR-OX,2026-07,100\nNDPR-OX,2026-08,100\n", manager)
    row = services.ForecastRow(material_id=material.pk, organization_id=None, month=date(2026, 8, 1), quantity=D("7"))
    version = services.forecast_upload(rows=[row], by=manager, source="api", replace="month")
    assert version.superseded_count == 1
    assert current(material) == {date(2026, 7, 1): D("100.000"), date(2026, 8, 1): D("7.000")}


def test_bad_rows_are_all_reported_and_nothing_is_written(material, manager):
    text = (
        "material,month,quantity,organization\n"
        "NDPR-OX,2026-07,100,\n"  # row 2: fine
        "NDPR-OX,2026-08,-5,\n"  # row 3
        "NOPE,2026-13,abc,GHOST\n"  # row 4
        "NDPR-OX,2026-07,1,\n"  # row 5: duplicate of row 2
        ",,,\n"  # row 6
        "NDPR-OX,2026-09,1.2345,\n"  # row 7
    )
    with pytest.raises(ForecastRowsInvalid) as caught:
        upload(text, manager)
    errors = caught.value.as_dict()["errors"]
    assert set(errors) == {"row 3", "row 4", "row 5", "row 6", "row 7"}
    assert errors["row 3"] == {"quantity": ["Quantity must not be negative."]}
    assert set(errors["row 4"]) == {"material", "month", "quantity", "organization"}
    assert "Duplicate of row 2" in errors["row 5"]["month"][0]
    assert errors["row 6"]["material"] == ["This field is required."]
    assert errors["row 7"] == {"quantity": ["Quantities (kg) have at most 3 decimals."]}
    assert caught.value.as_dict()["code"] == "invalid_rows"
    assert not ForecastVersion.objects.exists() and not ConsumptionForecast.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("material,month\nNDPR-OX,2026-07\n", "missing column(s) quantity"),
        ("material,month,quantity,colour\nNDPR-OX,2026-07,1,red\n", "unknown column(s) colour"),
        ("material,month,quantity\n", "no rows"),
    ],
)
def test_bad_files_are_refused(material, manager, text, message):
    with pytest.raises(InvalidInput) as caught:
        upload(text, manager)
    assert message in caught.value.message and caught.value.field == "file"
    assert not ForecastVersion.objects.exists()


def test_bytes_with_a_bom_and_crlf_are_read(material, manager):
    data = "\ufeffMaterial,Month,Quantity\r\nNDPR-OX,2026-07,10\r\n".encode()
    services.forecast_import_csv(file=io.BytesIO(data), by=manager, source="csv:bom.csv")
    assert current(material) == {date(2026, 7, 1): D("10.000")}


def test_not_utf8_is_refused(material, manager):
    with pytest.raises(InvalidInput) as caught:
        services.forecast_import_csv(
            file=io.BytesIO(b"material,month,quantity\n\xff\xfe,1,2\n"), by=manager, source="x"
        )
    assert caught.value.field == "file"


def test_month_must_be_a_first_day_in_the_database(material, manager):
    from django.db import IntegrityError, transaction

    version = ForecastVersion.objects.create(created_by=manager, source="test")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsumptionForecast.objects.create(version=version, material=material, month=date(2026, 7, 2), quantity=1)


def test_upload_asks_for_a_recheck_of_the_materials(material, manager):
    from vault.core.models import OutboxMessage

    upload("material,month,quantity\nNDPR-OX,2026-07,100\n", manager)
    message = OutboxMessage.objects.get()
    assert message.task == "vault.coverage.tasks.coverage_recheck"
    assert message.kwargs == {"material_ids": [material.pk]}
