"""factory_boy factories. Lots are created through the inventory service so that their
quantity always comes from a receipt movement, as in production."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from vault.accounts.models import Organization, User
from vault.accounts.services import token_create
from vault.inventory.models import Lot, Material, Site
from vault.inventory.services import lot_create


def days(n: int) -> date:
    """Today (in Vault's time zone) plus `n` days."""
    return timezone.localdate() + timedelta(days=n)


def api_token(user: User) -> str:
    """The key of a new API token for `user`, issued by the service the token endpoint calls."""
    return token_create(user=user).key


class InDays(int):
    """`n` days from today, for `parametrize` values: they are built when the tests are
    collected, before the clock travels to the test day (tests/clock.py), so a test turns them
    into dates when it runs, with `dated()`."""


def dated(values: dict) -> dict:
    """`values` with each InDays replaced by the ISO date it stands for."""
    return {key: days(v).isoformat() if isinstance(v, InDays) else v for key, v in values.items()}


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ORG-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code} Inc.")
    kind = Organization.Kind.MANUFACTURER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = "manager"
    is_staff = factory.LazyAttribute(lambda o: o.role != "manufacturer")
    password = factory.django.Password("pass-w0rd!")

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if create and self.role:
            group, _ = Group.objects.get_or_create(name=self.role)
            self.groups.add(group)


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"MAT-{n}")
    name = factory.LazyAttribute(lambda o: f"Material {o.code}")
    form = Material.Form.OXIDE
    grade = "99.5%"
    coverage_target_days = 60


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SITE-{n}")
    name = factory.LazyAttribute(lambda o: f"Depot {o.code}")
    country = "US"
    custodian = "DLA"
    capacity_kg = None


class LotFactory(factory.Factory):
    """LotFactory(material=..., site=..., initial_quantity="100", by=user, unit_cost="50")."""

    class Meta:
        model = Lot

    lot_number = factory.Sequence(lambda n: f"LOT-{n:06d}")
    material = factory.SubFactory(MaterialFactory)
    site = factory.SubFactory(SiteFactory)
    mining_country = "AU"
    processing_country = "MY"
    supplier = "Lynas"
    received_date = date(2026, 3, 1)
    unit_cost = Decimal("50.00")
    status = Lot.Status.AVAILABLE
    initial_quantity = None
    by = factory.SubFactory(UserFactory, role="manager")

    @classmethod
    def _create(cls, model_class, *args, initial_quantity=None, by=None, **kwargs):
        qty = Decimal(str(initial_quantity)) if initial_quantity is not None else None
        return lot_create(by=by, initial_quantity=qty, **kwargs)

    _build = _create
