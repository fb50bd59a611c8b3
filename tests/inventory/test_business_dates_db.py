"""PostgreSQL holds the period close on stock movements: a movement inserted with SQL and dated
in a closed period is refused by the trigger, as a journal entry is."""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from tests.factories import LotFactory, MaterialFactory, SiteFactory, UserFactory
from vault.ledger import services as ledger_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MARCH_END = date(2026, 3, 31)


def _raw_movement(lot, user, day: date) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_movement (kind, lot_id, material_id, site_id, quantity, balance_after, value,"
            " reason, reference, business_date, created_at, created_by_id)"
            " VALUES ('adjustment', %s, %s, %s, 1, 1001, 0, 'raw', '', %s, now(), %s)",
            [lot.pk, lot.material_id, lot.site_id, day, user.pk],
        )


def test_raw_sql_cannot_insert_a_movement_into_a_closed_period():
    ledger_services.chart_ensure()  # a transactional test starts from flushed tables
    manager = UserFactory(username="manager-db", role="manager")
    fin = UserFactory(username="finance-db", role="finance")
    lot = LotFactory(material=MaterialFactory(), site=SiteFactory(), initial_quantity="1000", by=manager)
    ledger_services.period_close(through=MARCH_END, by=fin)
    with pytest.raises(DatabaseError, match="period_closed"):
        _raw_movement(lot, manager, MARCH_END)
    _raw_movement(lot, manager, date(2026, 4, 1))  # the first open day is accepted
