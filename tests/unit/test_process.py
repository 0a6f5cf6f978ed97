import socket
import sys
import time

from stack.process import ManagedProcess, ProcessSpec, port_in_use, tail


def test_port_in_use_sees_a_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)


def test_managed_process_stops_its_whole_group(tmp_path):
    # The parent starts a child; stopping must end both (services like gunicorn fork workers).
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    spec = ProcessSpec("sleeper", [sys.executable, "-c", script])
    proc = ManagedProcess(spec, tmp_path / "p.pid", tmp_path / "p.log")
    pid = proc.start({})
    deadline = time.monotonic() + 10
    while "ready" not in tail(tmp_path / "p.log") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.pid() == pid
    children = [int(x) for x in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    assert len(children) == 1
    assert proc.stop(timeout_s=5)
    assert proc.pid() is None
    time.sleep(0.2)
    for child in children:
        try:
            state = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        assert state == "Z"  # reaped by init soon; never still running
    assert not (tmp_path / "p.pid").exists()


def test_stale_pid_file_is_not_trusted(tmp_path):
    pid_file = tmp_path / "x.pid"
    # PID 1 exists, but its start time does not match the record: not ours.
    pid_file.write_text('{"pid": 1, "start": "0", "argv": ["x"]}')
    proc = ManagedProcess(ProcessSpec("x", ["true"]), pid_file, tmp_path / "x.log")
    assert proc.pid() is None
    assert not proc.stop()
    assert not pid_file.exists()


def test_unset_env_hides_inherited_variables(tmp_path):
    code = "import os; print('PORT=' + os.environ.get('PORT', 'unset'), 'KEEP=' + os.environ.get('KEEP', ''))"
    spec = ProcessSpec("env", [sys.executable, "-c", code], env={"KEEP": "yes"}, unset_env=("PORT",))
    proc = ManagedProcess(spec, tmp_path / "e.pid", tmp_path / "e.log")
    proc.start({"PORT": "8080", "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 10
    while "PORT=" not in tail(tmp_path / "e.log") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "PORT=unset KEEP=yes" in tail(tmp_path / "e.log")
