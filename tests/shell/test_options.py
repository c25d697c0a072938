"""Command line and cqlshrc: cqlsh's flags and file format."""
from __future__ import annotations

import pytest

from cqlpy_shell.options import copy_defaults, default_data_dir, parse_args


def test_defaults(tmp_path):
    options = parse_args([], {"HOME": str(tmp_path)})
    assert options.host is None and options.port is None
    assert options.data == str(tmp_path / ".local" / "share" / "cqlpy")
    assert options.color is None and options.format == "table" and options.page_size == 100
    assert options.connect_timeout == 5 and options.request_timeout == 10


def test_data_dir_from_environment(tmp_path):
    assert default_data_dir({"CQLPY_DATA": "/d"}) == "/d"
    assert default_data_dir({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == "/x/cqlpy"
    assert parse_args(["--data", "/y"], {"CQLPY_DATA": "/d", "HOME": str(tmp_path)}).data == "/y"


def test_cqlsh_flags(tmp_path):
    options = parse_args(["-k", "ks", "-u", "me", "-p", "pw", "-e", "SELECT 1 FROM t", "--no-color",
                          "--connect-timeout", "2.5", "--request-timeout", "30", "--encoding", "latin-1",
                          "-t", "--format", "json", "host1", "9043"], {"HOME": str(tmp_path)})
    assert (options.keyspace, options.username, options.password) == ("ks", "me", "pw")
    assert options.execute == "SELECT 1 FROM t;"          # a ';' is appended, as cqlsh does
    assert options.color is False and options.tty and options.format == "json"
    assert (options.connect_timeout, options.request_timeout, options.encoding) == (2.5, 30.0, "latin-1")
    assert (options.host, options.port) == ("host1", 9043)
    assert parse_args(["-C", "-f", "x.cql"], {"HOME": str(tmp_path)}).color is True


def test_version_and_help(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--version"], {"HOME": str(tmp_path)})
    assert exit_info.value.code == 0
    assert "cqlpy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parse_args(["--help"], {"HOME": str(tmp_path)})
    help_text = capsys.readouterr().out
    for flag in ("--execute", "--file", "--keyspace", "--cqlshrc", "--no-color", "--request-timeout", "--tty"):
        assert flag in help_text


def test_cqlshrc_sections(tmp_path):
    rc = tmp_path / "cqlshrc"
    rc.write_text("""
[authentication]
username = alice
keyspace = shop

[ui]
color = off
float_precision = 3
double_precision = 7
encoding = utf-8

[connection]
hostname = 10.0.0.1
port = 9999
timeout = 7
request_timeout = 42

[history]
disabled = true

[cqlpy]
format = csv
expand = auto
page_size = 25

[copy]
header = true

[copy-from]
chunksize = 10

[copy:shop.items]
delimiter = |
""")
    options = parse_args(["--cqlshrc", str(rc)], {"HOME": str(tmp_path)})
    assert (options.username, options.keyspace, options.color) == ("alice", "shop", False)
    assert (options.float_precision, options.double_precision) == (3, 7)
    assert (options.connect_timeout, options.request_timeout) == (7.0, 42.0)
    assert options.host is None                 # the embedded database unless a host argument is given
    assert options.disable_history and options.format == "csv" and options.expand == "AUTO"
    assert options.page_size == 25
    assert copy_defaults(options, "shop", "items", "from") == {"HEADER": "true", "CHUNKSIZE": "10",
                                                                "DELIMITER": "|"}
    assert copy_defaults(options, "shop", "other", "to") == {"HEADER": "true"}
    # the command line wins over the cqlshrc
    assert parse_args(["--cqlshrc", str(rc), "-k", "ks2", "-C"], {"HOME": str(tmp_path)}).keyspace == "ks2"


def test_default_cqlshrc_location(tmp_path):
    (tmp_path / ".cassandra").mkdir()
    (tmp_path / ".cassandra" / "cqlshrc").write_text("[authentication]\nkeyspace = fromrc\n")
    assert parse_args([], {"HOME": str(tmp_path)}).keyspace == "fromrc"
