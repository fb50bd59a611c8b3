from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from vault.coverage.models import ConsumptionForecast, ForecastVersion


def test_imports_a_file_with_a_progress_bar(tmp_path, material, manager, capsys):
    path = tmp_path / "plan.csv"
    path.write_text("material,month,quantity\nNDPR-OX,2026-07,100\nNDPR-OX,2026-08,110.5\n", encoding="utf-8")
    call_command("import_forecast", str(path))
    out, err = capsys.readouterr()
    assert "Imported 2 rows as forecast version" in out
    assert "Reading plan.csv" in err and "2/2" in err  # tqdm's bar
    version = ForecastVersion.objects.get()
    assert version.source == "command:plan.csv" and version.created_by == manager
    assert dict(ConsumptionForecast.objects.values_list("month", "quantity")) == {
        date(2026, 7, 1): Decimal("100.000"),
        date(2026, 8, 1): Decimal("110.500"),
    }


def test_row_errors_are_printed_and_nothing_imported(tmp_path, material, manager, capsys):
    path = tmp_path / "plan.csv"
    path.write_text("material,month,quantity\nNDPR-OX,2026-07,100\nXX,2026-08,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 row"):
        call_command("import_forecast", str(path), "--no-progress", "--user", manager.username)
    assert "row 3, material: Unknown material 'XX'." in capsys.readouterr().err
    assert not ForecastVersion.objects.exists()


def test_missing_file_and_unknown_user(tmp_path, manager):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_forecast", str(tmp_path / "nope.csv"))
    path = tmp_path / "plan.csv"
    path.write_text("material,month,quantity\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No user"):
        call_command("import_forecast", str(path), "--user", "ghost")
