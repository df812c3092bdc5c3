"""Two app replicas on one artifacts folder, through a retrain (docs/scaling.md).

Each replica is the project's launcher (``python -m recsys.dashboard.ui.serve``) on its
own port, as behind a load balancer. A visitor is a Streamlit session opened over the
app's own websocket (``/_stcore/stream``, the messages the browser sends): the replica
runs the real page and sends back what it shows, so the test reads the sidebar's
"trained … for N epochs" from each server. Meanwhile a loader polls the served bundle
through the app's own path (``recsys.dashboard.ui.cache``: pointer → manifest hash →
verified load) while the trainer writes the new bundle into the same folder.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import ExitStack

import pytest
from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2
from websockets.sync.client import connect

from bench.server import Server, healthy_app
from recsys.config import hybrid_config
from recsys.dashboard.ui import cache
from recsys.dataset.movielens import load_movielens
from recsys.model.hybrid.train import train_hybrid_bundle
from recsys.settings import PROJECT_ROOT
from tests.e2e.browse import APP, app_env

EPOCHS = re.compile(r"trained on every movie for (\d+) epoch")


def visit(server: Server) -> tuple[int, list[str]]:
    """A new session's first page on ``server``: (the epochs its sidebar says the served
    model was trained for, the alerts and exceptions the page showed)."""
    with connect(f"ws://127.0.0.1:{server.port}/_stcore/stream", max_size=None) as socket:
        rerun = BackMsg_pb2.BackMsg()
        rerun.rerun_script.query_string = ""
        socket.send(rerun.SerializeToString())
        texts, problems = [], []
        while True:
            message = ForwardMsg_pb2.ForwardMsg()
            message.ParseFromString(socket.recv(timeout=60))
            kind = message.WhichOneof("type")
            if kind == "script_finished":
                if message.script_finished == ForwardMsg_pb2.ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    texts, problems = [], []  # the app asked for a rerun: read that one
                    continue
                break
            if kind != "delta":
                continue
            element = message.delta.new_element
            which = element.WhichOneof("type")
            if which == "markdown":
                texts.append(element.markdown.body)
            elif which in ("exception", "alert"):
                problems.append(str(getattr(element, which)))
    said = [int(m.group(1)) for text in texts if (m := EPOCHS.search(text))]
    assert len(said) == 1, texts
    return said[0], problems


@pytest.mark.slow
def test_two_replicas_switch_to_the_retrained_bundle_and_never_serve_half_of_one(
    synthetic_data, tmp_path, monkeypatch
):
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("RECSYS_ARTIFACTS", str(artifacts))  # what the app's loader reads
    dataset = load_movielens(synthetic_data)
    train_hybrid_bundle(dataset, hybrid_config(epochs=1), artifacts)
    env = app_env(artifacts, synthetic_data)
    with ExitStack() as stack:
        replicas = [stack.enter_context(healthy_app(APP, tmp_path, **env)) for _ in range(2)]
        for replica in replicas:
            assert visit(replica) == (1, [])
        before = cache.bundle_key(artifacts)

        retrain = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "recsys",
                "train",
                "--epochs",
                "2",
                "--force",
                "--json",
                "--data",
                str(synthetic_data),
                "--artifacts",
                str(artifacts),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        stack.enter_context(retrain)  # its pipe closed and the process reaped at the end,
        stack.callback(lambda: retrain.poll() is None and retrain.kill())  # killed first
        loads, seen = 0, set()
        deadline = time.monotonic() + 240
        while retrain.poll() is None:
            assert time.monotonic() < deadline, "the retrain did not finish"
            # What every rerun of a session does: read the pointer and the manifest hash,
            # then the cached, verified load (cleared here, so each load reads every file).
            cache.load_recommender_cached.clear()
            key = cache.bundle_key(artifacts)
            model = cache.current_model()  # raises BundleError on a half-written bundle
            assert (str(model.bundle), model.manifest_hash) == (key.path, key.digest)
            seen.add(key.path)
            loads += 1
            for replica in replicas:
                epochs, problems = visit(replica)
                assert epochs in (1, 2) and not problems, problems
        assert retrain.returncode == 0, retrain.stderr.read()
        assert loads >= 3  # the loader ran while the trainer wrote

        after = cache.bundle_key(artifacts)
        assert after.path != before.path and after.digest != before.digest
        assert seen <= {before.path, after.path}
        assert str(cache.current_model().bundle) == after.path
        for replica in replicas:  # a new visitor of either replica gets the new bundle
            assert visit(replica) == (2, [])
            assert replica.process.poll() is None and replica.last_traceback() is None
