"""What-if coverage. Guarantee: `coverage_scenario` computes the same figures as a check, with
the overrides applied, and writes nothing; bad input raises before any figure is computed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.utils import timezone

from vault.core.errors import InvalidInput
from vault.core.numbers import PCT, parse_decimal, parse_quantity
from vault.coverage import domain
from vault.coverage.selectors import Figures, MaterialInputs, coverage_inputs, figures_for
from vault.inventory.models import Material

QUANTUM = Decimal("0.001")


def _pct(value: Decimal | int | str, *, field: str, low: Decimal, high: Decimal | None) -> Decimal:
    pct = parse_decimal(value, field=field, digits=PCT, what="Percentages")
    if pct < low or (high is not None and pct > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"Must be {bound}.", field=field, code="percentage_out_of_range")
    return pct


def _extra_drawdowns(items: list[dict] | None) -> dict[str, Decimal]:
    """{material code: total quantity} of the extra drawdowns, each quantity parsed."""
    drawdowns: dict[str, Decimal] = defaultdict(Decimal)
    for n, item in enumerate(items or []):
        quantity = parse_quantity(item.get("quantity"), field=f"extra_drawdowns[{n}].quantity")
        drawdowns[item.get("material") or ""] += quantity
    return drawdowns


def _scenario_material_ids(
    *, codes: set[str], drawdown_codes: set[str], visible_ids: set[int] | None
) -> list[int] | None:
    """The ids of the materials the scenario covers: `codes`, else every visible material
    (None: all). A code that names no material the caller may see raises `material_unknown` on
    `materials` (or on `extra_drawdowns` when only drawdowns name one)."""
    wanted = codes | drawdown_codes
    known = dict(Material.objects.filter(code__in=wanted).values_list("code", "pk"))
    unknown = sorted(c for c in wanted if c not in known or (visible_ids is not None and known[c] not in visible_ids))
    if unknown:
        field = "materials" if set(unknown) & codes else "extra_drawdowns"
        raise InvalidInput(
            f"Unknown material(s): {', '.join(map(str, unknown))}.", field=field, code="material_unknown"
        )
    if codes:
        return [known[c] for c in codes]
    return None if visible_ids is None else sorted(visible_ids)


def _scenario_apply(
    inputs: list[MaterialInputs], *, demand_pct: Decimal, cut_pct: Decimal, drawdowns: Mapping[str, Decimal]
) -> None:
    """Demand scaled by `demand_pct` %, inbound cut by `cut_pct` %, drawdowns taken out of the
    usable stock (never below zero), in place."""
    cut = 1 - cut_pct / 100
    for entry in inputs:
        entry.monthly_demand = {m: domain.scale(q, demand_pct) for m, q in entry.monthly_demand.items()}
        entry.inbound = [(d, q * cut) for d, q in entry.inbound]
        extra = drawdowns.get(entry.code)
        if extra:
            entry.usable_stock = max(entry.usable_stock - extra, Decimal("0"))


def coverage_scenario(
    *,
    materials: list[str] | None = None,
    demand_change_pct: Decimal | int = 0,
    inbound_cut_pct: Decimal | int = 0,
    extra_drawdowns: list[dict] | None = None,
    today: date | None = None,
    visible_ids: set[int] | None = None,
) -> list[Figures]:
    """What-if coverage: demand changed by `demand_change_pct` % (at least -100), confirmed
    inbound cut by `inbound_cut_pct` % (0 to 100), and `extra_drawdowns` ([{material, quantity}])
    taken out of usable stock today. Same figures as a check; nothing is written. Raises
    `percentage_out_of_range`, a quantity's error or `material_unknown` (a material outside
    `visible_ids` is unknown)."""
    today = today or timezone.localdate()
    demand_pct = _pct(demand_change_pct, field="demand_change_pct", low=Decimal("-100"), high=None)
    cut_pct = _pct(inbound_cut_pct, field="inbound_cut_pct", low=Decimal("0"), high=Decimal("100"))
    drawdowns = _extra_drawdowns(extra_drawdowns)
    ids = _scenario_material_ids(codes=set(materials or []), drawdown_codes=set(drawdowns), visible_ids=visible_ids)
    inputs = coverage_inputs(today=today, material_ids=ids)
    _scenario_apply(inputs, demand_pct=demand_pct, cut_pct=cut_pct, drawdowns=drawdowns)
    # Quantities shown as stored: three decimals.
    return [replace(f, usable_stock=f.usable_stock.quantize(QUANTUM)) for f in figures_for(inputs, today=today)]
