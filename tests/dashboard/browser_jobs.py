"""Drive the dashboard's jobs through AppTest in a fresh process, as a browser on the
server's machine would, and report what the server's process imported.

``python -m tests.dashboard.browser_jobs`` (RECSYS_DATA and RECSYS_ARTIFACTS set): on
the Model page, train the hybrid model for one epoch, then start an evaluation and
cancel it once its child is training (or let it end, if it ends first). Prints one
JSON object. A process of its own, so nothing the test session imported (TensorFlow,
to train its fixtures) counts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

TIMEOUT_S = 180


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def main() -> dict:
    from streamlit.testing.v1 import AppTest

    from recsys.dashboard.ui import access
    from recsys.dashboard.ui.jobs import latest_job
    from recsys.dashboard.ui.serve import route_apptest_with_navigation
    from tests.dashboard.apptest import DASHBOARD, LOCAL_VISITOR, PAGES, texts

    route_apptest_with_navigation()  # as the launcher's server routes, not by pages/
    access.visitor_request = lambda: (list(LOCAL_VISITOR), None)
    artifacts = Path(os.environ["RECSYS_ARTIFACTS"])
    at = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT_S)
    at.switch_page(PAGES["model"]).run()
    next(n for n in at.number_input if n.label == "Epochs").set_value(1)
    next(b for b in at.button if b.label == "Train a new model").click()
    at.run()
    training = latest_job("train", artifacts)
    _wait(lambda: not training.running, "the training")
    at.run()
    trained_page = texts(at)
    at.button(key="run_evaluation").click()
    at.run()
    evaluation = latest_job("evaluate", artifacts)
    # "training" in its status: the child has imported TensorFlow and trains.
    _wait(lambda: "training" in evaluation.text or not evaluation.running, "the evaluation")
    reached_training = "training" in evaluation.text or evaluation.error is None
    at.button(key="cancel_evaluate").click()  # it may have ended in the meantime
    at.run()
    _wait(lambda: not evaluation.running, "the cancel")
    return {
        "exceptions": [str(e.value) for e in at.exception],
        "train_result": training.result,
        "train_error": training.error,
        "trained_page": trained_page,
        "evaluation_reached_training": reached_training,
        "evaluation_error": evaluation.error,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "keras_imported": "keras" in sys.modules,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
