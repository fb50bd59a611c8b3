from django.db import models


class Role(models.TextChoices):
    MANAGER = "manager", "Stockpile manager"
    FINANCE = "finance", "Finance"
    MANUFACTURER = "manufacturer", "Manufacturer"
    AUDITOR = "auditor", "Auditor"


STAFF_ROLES = {Role.MANAGER, Role.FINANCE, Role.AUDITOR}

# Which apps' models each role may change in the admin; every staff role may view all. Managers
# run the background work: the beat schedule and the outbox (core: resending dead messages).
ROLE_CHANGE_APPS: dict[str, set[str]] = {
    Role.MANAGER: {"inventory", "drawdowns", "coverage", "django_celery_beat", "core"},
    Role.FINANCE: {"financing", "ledger"},
    Role.AUDITOR: set(),
    Role.MANUFACTURER: set(),
}
