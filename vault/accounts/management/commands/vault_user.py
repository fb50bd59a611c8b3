from django.core.management.base import BaseCommand, CommandError

from vault.accounts.roles import Role
from vault.accounts.services import user_upsert
from vault.core.errors import DomainError


class Command(BaseCommand):
    help = "Create or update a user with a role (and its organization, if the code is new)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--org", dest="org_code", help="Organization code")
        parser.add_argument("--password")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, org_code, password, email, **options):
        try:
            user = user_upsert(username=username, role=role, org_code=org_code, password=password, email=email)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        org = f" of {user.organization.code}" if user.organization else ""
        self.stdout.write(self.style.SUCCESS(f"{user.username}: {user.role}{org}"))
