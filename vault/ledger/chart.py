"""The fixed part of the chart of accounts. Per-facility accounts (loan payable, investor
capital) are opened by the financing app with codes derived from the facility code."""

from django.db import models


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}

CASH = "1000"
RECEIVABLES = "1200"
INVENTORY = "1300"
INTEREST_PAYABLE = "2000"
LOAN_PAYABLE_PREFIX = "2100"
INVESTOR_CAPITAL_PREFIX = "3100"
FEE_INCOME = "4000"
CARRYING_COST_INCOME = "4100"
MATERIAL_SALES = "4200"
INVENTORY_ADJUSTMENTS = "4400"
INTEREST_EXPENSE = "5000"
COST_OF_RELEASES = "5200"
WRITE_OFFS = "5300"

SYSTEM_ACCOUNTS = [
    (CASH, "Cash", AccountType.ASSET),
    (RECEIVABLES, "Receivables from participants", AccountType.ASSET),
    (INVENTORY, "Inventory at cost", AccountType.ASSET),
    (INTEREST_PAYABLE, "Interest payable", AccountType.LIABILITY),
    (FEE_INCOME, "Fee income", AccountType.INCOME),
    (CARRYING_COST_INCOME, "Carrying-cost income", AccountType.INCOME),
    (MATERIAL_SALES, "Material released to participants (at locked price)", AccountType.INCOME),
    (INVENTORY_ADJUSTMENTS, "Inventory count and assay adjustments", AccountType.INCOME),
    (INTEREST_EXPENSE, "Interest expense", AccountType.EXPENSE),
    (COST_OF_RELEASES, "Cost of material released", AccountType.EXPENSE),
    (WRITE_OFFS, "Inventory write-offs", AccountType.EXPENSE),
]

# Control accounts: posted only by the process that owns them (a movement, a tranche, an
# accrual, a drawdown), never by a manual entry. The per-facility loan, interest and capital
# accounts are control accounts too.
CONTROL_CODES = frozenset({RECEIVABLES, INVENTORY, INTEREST_PAYABLE})
CONTROL_PREFIXES = (f"{LOAN_PAYABLE_PREFIX}-", f"{INTEREST_PAYABLE}-", f"{INVESTOR_CAPITAL_PREFIX}-")


def is_control_code(code: str) -> bool:
    """Whether the account with this code is a control account (above)."""
    return code in CONTROL_CODES or code.startswith(CONTROL_PREFIXES)
