"""Reset a user's second factor from the command line: for when no superuser can sign in to the
admin (the last one lost the phone and the backup codes). The same service as the admin's reset."""

from django.core.management.base import BaseCommand, CommandError

from vault.accounts.models import User
from vault.accounts.services import second_factor_reset
from vault.core.errors import DomainError


class Command(BaseCommand):
    help = "Delete a user's authenticator app and backup codes: the next login sets up a new app."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Whose second factor to reset.")
        parser.add_argument("--by", required=True, help="The superuser who answers for the reset (recorded).")

    def handle(self, *args, username, by, **options):
        users = {user.username: user for user in User.objects.filter(username__in=[username, by])}
        for name in (username, by):
            if name not in users:
                raise CommandError(f"No user {name!r}.")
        try:
            deleted = second_factor_reset(user=users[username], by=users[by])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if not deleted:
            self.stdout.write(f"{username} has no second factor: nothing to reset.")
            return
        self.stdout.write(self.style.SUCCESS(f"{username}: second factor reset; the next login sets up a new app."))
