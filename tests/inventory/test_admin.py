from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LotFactory, MaterialFactory, SiteFactory, UserFactory
from tests.inventory.admin_forms import form_data, lot_add_data
from tests.inventory.invariants import assert_holdings_consistent
from vault.inventory.models import Lot, Movement, Position
from vault.inventory.services import lot_reserve, movement_release, movement_transfer


@pytest.fixture
def stock(lot, other_site, manager):
    """A lot with a receipt, a release, a transfer (two legs) and a reversal to look at."""
    release = movement_release(lot=lot, quantity=Decimal("10"), by=manager)
    movement_transfer(lot=lot, quantity=Decimal("5"), to_site=other_site, by=manager)
    return lot, release


def _pages(lot, release):
    position = Position.objects.get(material=lot.material, site=lot.site)
    return {
        "material": ["", "add/", f"{lot.material_id}/change/", f"{lot.material_id}/history/"],
        "site": ["", "add/", f"{lot.site_id}/change/", f"{lot.site_id}/history/"],
        "lot": ["", "add/", f"{lot.pk}/change/", f"{lot.pk}/history/"],
        "movement": ["", "add/", f"{release.pk}/change/", f"{release.pk}/reverse/"],
        "position": ["", f"{position.pk}/change/"],
    }


def test_every_inventory_page_renders_for_a_manager(browser, manager, stock):
    client = browser(manager)
    assert client.get("/admin/").status_code == 200
    for model, suffixes in _pages(*stock).items():
        for suffix in suffixes:
            url = f"/admin/inventory/{model}/{suffix}"
            response = client.get(url)
            assert response.status_code == 200, url


def test_changelist_filters_and_search(browser, manager, stock, other_site):
    lot, release = stock
    client = browser(manager)

    def listed(url):
        response = client.get(url)
        assert response.status_code == 200, url
        return list(response.context["cl"].result_list)

    assert [m.kind for m in listed("/admin/inventory/movement/?kind__exact=release")] == ["release"]
    assert {m.site_id for m in listed(f"/admin/inventory/movement/?site__id__exact={other_site.pk}")} == {other_site.pk}
    assert len(listed(f"/admin/inventory/movement/?material__id__exact={lot.material_id}")) == 4
    assert [m.pk for m in listed(f"/admin/inventory/movement/?q={lot.lot_number}")] == sorted(
        Movement.objects.filter(lot=lot).values_list("pk", flat=True), reverse=True
    )
    assert [m.pk for m in listed(f"/admin/inventory/movement/?q={release.pk}")] == [release.pk]
    assert listed("/admin/inventory/movement/?q=LOT") == []  # exact matches only: each has an index
    assert [x.pk for x in listed("/admin/inventory/lot/?status__exact=available&q=@DEPOT-B")] == [
        Lot.objects.get(site=other_site).pk
    ]
    assert len(listed(f"/admin/inventory/position/?site__id__exact={other_site.pk}")) == 1


def test_movements_are_searched_by_reference_and_sorted_by_indexed_columns(browser, manager, lot):
    tagged = movement_release(lot=lot, quantity=Decimal("1"), by=manager, reference="DR-12")
    client = browser(manager)
    response = client.get("/admin/inventory/movement/?q=DR-12")
    assert [m.pk for m in response.context["cl"].result_list] == [tagged.pk]
    page = client.get("/admin/inventory/movement/")
    sortable = {h["text"] for h in page.context["result_headers"] if h["sortable"]}
    assert sortable == {"ID", "business date", "created at"}
    # Asking for another column in the URL does not sort a million rows by it.
    quantity_column = [h["text"] for h in page.context["result_headers"]].index("quantity")
    ordered = client.get(f"/admin/inventory/movement/?o={quantity_column}").context["cl"]
    assert not any("quantity" in str(term) for term in ordered.queryset.query.order_by)
    ids = [m.pk for m in ordered.result_list]
    assert ids == sorted(ids, reverse=True) and len(ids) == 2


def test_auditor_views_but_cannot_add_or_reverse(browser, auditor, stock):
    lot, release = stock
    client = browser(auditor)
    for model in ("material", "site", "lot", "movement", "position"):
        assert client.get(f"/admin/inventory/{model}/").status_code == 200
    for model in ("material", "site", "lot", "movement"):
        assert client.get(f"/admin/inventory/{model}/add/").status_code == 403
    assert client.get(f"/admin/inventory/lot/{lot.pk}/change/").status_code == 200  # view only
    assert client.get(f"/admin/inventory/movement/{release.pk}/reverse/").status_code == 403
    response = client.post(f"/admin/inventory/movement/{release.pk}/reverse/", {"reason": "x"})
    assert response.status_code == 403
    assert not Movement.objects.filter(kind="reversal").exists()
    page = client.get("/admin/inventory/movement/").content.decode()
    assert "Reverse…" in page  # shown to every staff role; the reverse view checks the permission


def test_finance_cannot_change_inventory(browser, finance, stock):
    lot, _ = stock
    client = browser(finance)
    assert client.get("/admin/inventory/lot/").status_code == 200
    assert client.get("/admin/inventory/lot/add/").status_code == 403
    response = client.post(f"/admin/inventory/lot/{lot.pk}/change/", {"status": "damaged"})
    assert response.status_code == 403
    assert Lot.objects.get(pk=lot.pk).status == "available"


def test_manufacturers_are_not_admin_users(browser, maker_a):
    response = browser(maker_a).get("/admin/inventory/lot/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/admin/inventory/movement/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- record a movement -------------------------------------------------------------------------


def test_record_a_movement_goes_through_the_service(browser, manager, lot):
    client = browser(manager)
    page = client.get(f"/admin/inventory/movement/add/?lot={lot.pk}&kind=release")
    assert form_data(page)["lot"] == str(lot.pk)
    response = client.post(
        "/admin/inventory/movement/add/",
        {"kind": "release", "lot": lot.pk, "quantity": "125.5", "reason": "", "reference": "DD-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/inventory/lot/{lot.pk}/change/"
    movement = Movement.objects.get(kind="release")
    assert (movement.quantity, movement.created_by, movement.reference) == (Decimal("-125.5"), manager, "DD-42")
    assert_holdings_consistent()


def test_record_a_transfer(browser, manager, lot, other_site):
    response = browser(manager).post(
        "/admin/inventory/movement/add/",
        {"kind": "transfer", "lot": lot.pk, "quantity": "20", "to_site": other_site.pk},
    )
    assert response.status_code == 302
    assert Lot.objects.get(site=other_site).on_hand == Decimal("20")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "release", "quantity": "1000.001"}, "quantity", "free"),
        ({"kind": "release", "quantity": "0"}, "quantity", "greater than zero"),
        ({"kind": "receipt", "quantity": "1.0001"}, "quantity", "decimal places"),
        ({"kind": "adjustment", "quantity": "5"}, "reason", "reason"),
        ({"kind": "transfer", "quantity": "5"}, "to_site", "destination"),
        ({"kind": "reversal", "quantity": "5"}, "kind", "valid choice"),
    ],
)
def test_record_a_movement_shows_field_errors_and_writes_nothing(
    browser, manager, lot, data, field, message, unchanged
):
    with unchanged():
        response = browser(manager).post("/admin/inventory/movement/add/", {"lot": lot.pk, **data})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])


def test_reverse_view(browser, manager, stock):
    lot, release = stock
    client = browser(manager)
    page = client.get(f"/admin/inventory/movement/{release.pk}/reverse/")
    assert b"Release of -10.000 kg" in page.content
    response = client.post(f"/admin/inventory/movement/{release.pk}/reverse/", {"reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    response = client.post(f"/admin/inventory/movement/{release.pk}/reverse/", {"reason": "Keyed on the wrong lot"})
    assert response.status_code == 302
    assert Movement.objects.get(reverses=release).created_by == manager
    again = client.post(f"/admin/inventory/movement/{release.pk}/reverse/", {"reason": "again"})
    assert again.status_code == 400
    assert "already reversed" in str(again.context["form"].errors)
    assert Movement.objects.filter(kind="reversal").count() == 1
    changelist = client.get("/admin/inventory/movement/").content.decode()
    assert "reversed" in changelist
    assert client.get("/admin/inventory/movement/999999/reverse/").status_code == 404
    assert_holdings_consistent()


def test_movements_cannot_be_changed_or_deleted_in_the_admin(browser, manager, stock):
    _, release = stock
    client = browser(manager)
    response = client.post(f"/admin/inventory/movement/{release.pk}/change/", {"quantity": "-1"})
    assert response.status_code == 403
    assert client.post(f"/admin/inventory/movement/{release.pk}/delete/", {"post": "yes"}).status_code == 403
    release.refresh_from_db()
    assert release.quantity == Decimal("-10")


# --- lots ----------------------------------------------------------------------------------------


def test_add_a_lot_with_its_initial_quantity(browser, manager, material, site):
    client = browser(manager)
    data = lot_add_data(client, material=material.pk, site=site.pk, initial_quantity="300")
    response = client.post("/admin/inventory/lot/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    lot = Lot.objects.get(lot_number="ADM-1")
    assert lot.on_hand == Decimal("300")
    receipt = lot.movements.get()
    assert (receipt.kind, receipt.created_by) == ("receipt", manager)
    assert lot.history.get().history_user == manager
    assert_holdings_consistent()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"initial_quantity": "1500.001"}, "initial_quantity"), ({"initial_quantity": "0"}, "initial_quantity")],
)
def test_lot_add_errors_are_shown_on_the_form(browser, manager, material, capped_site, overrides, field, unchanged):
    client = browser(manager)
    data = lot_add_data(client, material=material.pk, site=capped_site.pk, **overrides)
    with unchanged():
        response = client.post("/admin/inventory/lot/add/", data)
    assert response.status_code == 400
    assert field in response.context["adminform"].form.errors
    assert not Lot.objects.exists()


def _lot_change(client, lot, **overrides):
    url = f"/admin/inventory/lot/{lot.pk}/change/"
    data = form_data(client.get(url), "lot_form")
    data.update(overrides)
    return client.post(url, data)


def test_change_lot_status_moves_it_out_of_available(browser, manager, lot):
    client = browser(manager)
    response = _lot_change(client, lot, status="quarantine", supplier="Lynas Malaysia")
    assert response.status_code == 302
    lot.refresh_from_db()
    assert (lot.status, lot.supplier) == ("quarantine", "Lynas Malaysia")
    assert Position.objects.get(material=lot.material, site=lot.site).unavailable == Decimal("1000")
    latest = lot.history.first()
    assert latest.history_user == manager
    assert_holdings_consistent()


def test_status_change_refused_by_the_service_is_a_form_error(browser, manager, lot):
    lot_reserve(lot=lot, quantity=Decimal("5"))
    response = _lot_change(browser(manager), lot, status="damaged", supplier="changed")
    assert response.status_code == 400
    assert "status" in response.context["adminform"].form.errors
    lot.refresh_from_db()
    assert (lot.status, lot.supplier) == ("available", "Lynas")


def test_quantities_are_not_editable_in_the_admin(browser, manager, lot):
    client = browser(manager)
    response = _lot_change(client, lot, on_hand="5", reserved="1", unit_cost="1", status="available")
    assert response.status_code == 302
    lot.refresh_from_db()
    assert (lot.on_hand, lot.reserved, lot.unit_cost) == (Decimal("1000"), 0, Decimal("50"))


def test_lot_page_lists_its_movements_read_only(browser, manager, stock):
    lot, _ = stock
    page = browser(manager).get(f"/admin/inventory/lot/{lot.pk}/change/")
    inline = page.context["inline_admin_formsets"][0]
    assert inline.formset.queryset.count() == 3
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission


def test_site_capacity_cannot_drop_below_what_it_holds(browser, manager, lot):
    client = browser(manager)
    url = f"/admin/inventory/site/{lot.site_id}/change/"
    data = form_data(client.get(url), "site_form")
    data["capacity_kg"] = "999"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "capacity_kg" in response.context["adminform"].form.errors


# --- no N+1 -------------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


CHANGELISTS = [
    "/admin/inventory/movement/",
    "/admin/inventory/movement/?kind__exact=release",
    "/admin/inventory/movement/?q=LOT",
    "/admin/inventory/lot/",
    "/admin/inventory/lot/?status__exact=available",
    "/admin/inventory/position/",
    "/admin/inventory/material/",
    "/admin/inventory/site/",
]


def test_changelist_queries_do_not_grow_with_rows(browser, manager):
    client = browser(manager)
    sites = [SiteFactory(code=f"S{n}") for n in range(5)]

    def add(start, n):
        for i in range(start, start + n):
            lot = LotFactory(
                material=MaterialFactory(code=f"M{i % 7}"), site=sites[i % 5], initial_quantity="9", by=manager
            )
            movement_release(lot=lot, quantity=Decimal("1"), by=UserFactory(username=f"u{i}", role="manager"))

    add(0, 5)
    small = {url: _queries(client, url) for url in CHANGELISTS}
    add(5, 20)
    assert {url: _queries(client, url) for url in CHANGELISTS} == small
    assert Movement.objects.count() == 50


def test_accounts_admin_pages(browser, manager, auditor, org_a, maker_a):
    client = browser(manager)
    for url in (
        "/admin/accounts/user/",
        f"/admin/accounts/user/{maker_a.pk}/change/",
        "/admin/accounts/organization/",
        f"/admin/accounts/organization/{org_a.pk}/change/",
        f"/admin/accounts/organization/{org_a.pk}/history/",
    ):
        assert client.get(url).status_code == 200, url
    # Managers look after the stockpile, not the user accounts.
    assert client.get("/admin/accounts/user/add/").status_code == 403
    assert client.get("/admin/accounts/organization/add/").status_code == 403
    assert browser(auditor).get("/admin/accounts/user/").status_code == 200


def test_superuser_adds_users_and_organizations(browser, db):
    admin = UserFactory(username="root", role="", is_superuser=True, is_staff=True)
    client = browser(admin)
    for url in ("/admin/accounts/user/add/", "/admin/accounts/organization/add/"):
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/accounts/organization/add/", {"code": "NEW-ORG", "name": "New Org", "kind": "manufacturer"}
    )
    assert response.status_code == 302


def test_accounts_changelist_queries_do_not_grow(browser, manager, db):
    client = browser(manager)

    def add(n, start):
        for i in range(start, start + n):
            org = UserFactory._meta.model.organization.field.related_model.objects.create(code=f"O{i}", name=f"O{i}")
            UserFactory(username=f"m{i}", role="manufacturer", organization=org)

    add(5, 0)
    small = _queries(client, "/admin/accounts/user/")
    add(20, 5)
    assert _queries(client, "/admin/accounts/user/") == small
