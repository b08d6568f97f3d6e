"""``publicist media``: files enter the library checked by content; posts refer to their ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from publicist.cli.main import main

Run = Callable[..., tuple[int, str, str]]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def run(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.delenv("PUBLICIST_MEDIA_DIR")  # the default: ./media beside the database

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["publicist", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as caught:
            main()
        captured = capsys.readouterr()
        code = caught.value.code
        return (code if isinstance(code, int) else 0), captured.out, captured.err

    return invoke


def test_a_file_is_added_listed_and_used_by_a_post(run: Run, embedded_env: Path) -> None:
    poster = embedded_env / "poster.png"
    poster.write_bytes(PNG)
    code, out, err = run("media", "add", str(poster), "--name", "IP Week poster")
    assert code == 0, err
    assert out.startswith("media 1: image image/png, 108 bytes (IP Week poster)")
    assert run("media", "add", str(poster))[1].startswith("media 1:")  # same bytes, same item
    stored = list((embedded_env / "media").iterdir())
    assert [p.suffix for p in stored] == [".png"]
    assert stored[0].read_bytes() == PNG
    code, out, _ = run("media", "list")
    assert code == 0
    assert "IP Week poster" in out
    assert "image/png" in out
    assert run("account", "add", "mock", "@IPRinCN", "--token", "t")[0] == 0
    assert run("campaign", "create", "IP Week")[0] == 0
    code, out, err = run(
        "post", "add", "-c", "IP Week", "-t", "Poster", "--to", "mock:@IPRinCN",
        "--media", "image:1",
    )  # fmt: skip
    assert code == 0, err


def test_bad_files_and_local_paths_get_one_line_and_exit_2(run: Run, embedded_env: Path) -> None:
    key = embedded_env / "publicist.key"
    key.write_text("the encryption key")
    code, _, err = run("media", "add", str(key))
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith("error: file: 'publicist.key' is not a file Publicist accepts")
    assert str(embedded_env) not in line
    code, _, err = run("media", "add", str(embedded_env / "absent.png"))
    assert code == 2
    assert "FILE: 'absent.png' is not a readable file" in err
    assert not list((embedded_env / "media").glob("*"))
    assert run("account", "add", "mock", "@IPRinCN", "--token", "t")[0] == 0
    assert run("campaign", "create", "IP Week")[0] == 0
    code, _, err = run(
        "post", "add", "-c", "IP Week", "-t", "Key", "--to", "mock:@IPRinCN",
        "--media", f"image:{key}",
    )  # fmt: skip
    assert code == 2
    assert "KIND:MEDIA_ID or KIND:URL" in err
    assert str(key) not in err
