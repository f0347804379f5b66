"""`alcor bench` prepares its output files' directories before the run, not after it."""

from __future__ import annotations

from click.testing import CliRunner

from alcor.bench.cli import _output_file, bench


def test_an_output_files_missing_directory_is_made(tmp_path):
    """--json into a directory that does not exist yet: made up front."""
    target = tmp_path / "runs" / "today" / "bench.json"
    assert _output_file(None, None, str(target)) == str(target)  # type: ignore[arg-type]
    assert target.parent.is_dir()


def test_an_output_file_under_a_file_is_a_usage_error_before_any_run(tmp_path):
    """A directory that cannot be made stops the command at once, with exit code 2."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = CliRunner().invoke(bench, ["--json", str(blocker / "bench.json")])
    assert result.exit_code == 2
    assert "cannot make the directory" in result.output
