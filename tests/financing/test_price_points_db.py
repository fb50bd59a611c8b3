"""Price points held by PostgreSQL: raw SQL can neither edit, delete nor truncate a version, nor
record a correction already confirmed, nor have its proposer confirm it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests.factories import MaterialFactory, UserFactory
from tests.financing.factories import second_finance_user
from vault.financing import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ON = date(2026, 3, 2)


@pytest.fixture
def fin():
    return UserFactory(username="finance-px", role="finance")


@pytest.fixture
def prices(fin):
    material = MaterialFactory()
    first = services.price_point_create(material=material, date=ON, usd_per_kg=Decimal("648"), source="A", by=fin)
    correction = services.price_point_create(material=material, date=ON, usd_per_kg=Decimal("1"), source="A", by=fin)
    return first, correction


def _refused(statement: str, params=(), error=DatabaseError) -> str:
    with pytest.raises(error) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return str(refused.value)


def test_update_delete_and_truncate_are_refused(prices):
    first, correction = prices
    assert "append-only" in _refused("UPDATE financing_pricepoint SET usd_per_kg = 1 WHERE id = %s", [first.pk])
    assert "append-only" in _refused("DELETE FROM financing_pricepoint WHERE id = %s", [first.pk])
    # A pending version takes its decision only: its price stays.
    assert "append-only" in _refused(
        "UPDATE financing_pricepoint SET usd_per_kg = 2, status = 'confirmed', confirmed_by_id = %s, "
        "confirmed_at = now() WHERE id = %s",
        [second_finance_user(first.created_by).pk, correction.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert "TRUNCATE is refused" in _refused("TRUNCATE financing_pricepoint CASCADE")


def test_the_proposer_cannot_confirm_with_raw_sql(prices, fin):
    _, correction = prices
    assert "price_point_confirmed_by_another" in _refused(
        "UPDATE financing_pricepoint SET status = 'confirmed', confirmed_by_id = %s, confirmed_at = now() "
        "WHERE id = %s",
        [fin.pk, correction.pk],
        IntegrityError,
    )
    # Nor confirm with no second user, nor insert a correction already in force.
    assert "append-only" in _refused(
        "UPDATE financing_pricepoint SET status = 'confirmed', confirmed_at = now() WHERE id = %s", [correction.pk]
    )
    assert "price_point_correction_confirmed_by_another" in _refused(
        "INSERT INTO financing_pricepoint (material_id, date, usd_per_kg, source, version, supersedes_id, withdrawn, "
        "status, created_at, confirmed_at) SELECT material_id, date, 3, source, 3, id, false, 'confirmed', now(), "
        "now() FROM financing_pricepoint WHERE id = %s",
        [correction.supersedes_id],
        IntegrityError,
    )


def test_a_second_user_decides_once(prices, fin):
    _, correction = prices
    checker = second_finance_user(fin)
    services.price_point_confirm(price_point=correction, by=checker)
    assert "append-only" in _refused(
        "UPDATE financing_pricepoint SET status = 'rejected' WHERE id = %s", [correction.pk]
    )
