"""Demo organizations and one user per role (passwords are for the demo only)."""

from vault.accounts.models import Organization, User
from vault.accounts.services import user_upsert

ORGANIZATIONS = [
    ("VAULT", "Project Vault Reserve Operator", Organization.Kind.OPERATOR),
    ("ACME-MOTORS", "Acme Motors (demo automaker)", Organization.Kind.MANUFACTURER),
    ("AEROFORGE", "AeroForge Aerospace (demo)", Organization.Kind.MANUFACTURER),
    ("GRIDWORKS", "GridWorks Transformers (demo)", Organization.Kind.MANUFACTURER),
    ("HARTREE", "Hartree Partners", Organization.Kind.TRADING_HOUSE),
    ("TRAXYS", "Traxys North America", Organization.Kind.TRADING_HOUSE),
    ("EXIM", "Export-Import Bank of the United States", Organization.Kind.LENDER),
]

LABEL = "organizations and users"
DEMO_PASSWORD = "vault-demo-2026"  # noqa: S105 (demo logins, printed by make run)
USERS = [
    ("manager", "manager", "VAULT"),
    ("finance", "finance", "VAULT"),
    ("auditor", "auditor", "VAULT"),
    ("acme", "manufacturer", "ACME-MOTORS"),
    ("aeroforge", "manufacturer", "AEROFORGE"),
]


def seed() -> list[tuple[str, str]]:
    for code, name, kind in ORGANIZATIONS:
        Organization.objects.update_or_create(code=code, defaults={"name": name, "kind": kind})
    logins = []
    for username, role, org in USERS:
        user_upsert(
            username=username, role=role, org_code=org, password=DEMO_PASSWORD, email=f"{username}@vault.example"
        )
        logins.append((username, role))
    return logins


def demo_manager() -> User:
    """The demo's stockpile manager, who records the other apps' demo data."""
    return User.objects.get(username="manager")


def summary() -> list[str]:
    """The demo logins, for `seed_demo`'s closing lines."""
    found = User.objects.filter(username__in=[name for name, _, _ in USERS]).order_by("role")
    return [f"Logins (password {DEMO_PASSWORD}):"] + [f"  {user.username:<10} {user.role}" for user in found]
