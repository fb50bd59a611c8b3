"""Every Vault task has a soft and a hard time limit, the soft one first; the checks that walk
every row have longer ones than the rest."""

import pytest

from config.celery_app import app

LONG = {
    "vault.coverage.tasks.coverage_check_all",
    "vault.integrity.tasks.vault_check",
    "vault.financing.tasks.accrue_interest",
}


def vault_tasks() -> dict:
    app.loader.import_default_modules()  # what a worker imports when it starts: every app's tasks
    return {name: task for name, task in app.tasks.items() if name.startswith("vault.")}


def limits(task) -> tuple:
    """The limits a worker applies: the task's own, else the app's configuration."""
    soft = task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
    hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
    return soft, hard


def test_the_walk_sees_every_kind_of_task():
    names = set(vault_tasks())
    assert names >= LONG
    assert names >= {"vault.core.outbox.outbox_drain", "vault.drawdowns.tasks.notify_status_changed"}


@pytest.mark.parametrize("name", sorted(vault_tasks()))
def test_every_task_has_a_soft_limit_below_its_hard_limit(name):
    soft, hard = limits(app.tasks[name])
    assert soft and hard, f"{name} runs without a time limit"
    assert 0 < soft < hard, f"{name}: soft {soft} s must come before hard {hard} s"
    # A task killed at its hard limit is acknowledged: redelivering it would overrun again, forever.
    assert app.tasks[name].acks_on_timeout, name


def test_the_long_checks_get_more_time_and_the_rest_the_global_limits(settings):
    default = (settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT)
    for name, task in vault_tasks().items():
        soft, hard = limits(task)
        if name in LONG:
            assert soft > default[0] and hard > default[1], name
        else:
            assert (soft, hard) == default, name
