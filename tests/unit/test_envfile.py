import stat

from citydata.envfile import EnvFile


def test_update_merges_and_keeps_file_private(tmp_path):
    env = EnvFile(tmp_path / "citydata.env")
    env.update({"A": "1", "B": "two"})
    env.update({"B": "2", "C": "x=y"})
    assert env.read() == {"A": "1", "B": "2", "C": "x=y"}
    assert stat.S_IMODE((tmp_path / "citydata.env").stat().st_mode) == 0o600


def test_ensure_secret_is_generated_once(tmp_path):
    env = EnvFile(tmp_path / "citydata.env")
    first = env.ensure_secret("CITYDATA_X__TOKEN")
    second = env.ensure_secret("CITYDATA_X__TOKEN")
    other = env.ensure_secret("CITYDATA_Y__TOKEN")
    assert first == second
    assert first != other
    assert len(first) >= 24
    assert first.isalnum()  # safe in URLs, config files and shell
