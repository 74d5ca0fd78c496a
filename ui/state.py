"""The only place session-state keys live.

Per-user objects (data, labels, models, training jobs) are kept in ``st.session_state``
and never in ``st.cache_resource``, which all users share.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# playground: widget keys double as URL query parameters (see ui/settings.py), so they are short and plain
SOURCE = "source"  # Toy dataset / Draw / Upload CSV
DATASET = "dataset"
N_POINTS = "n"
NOISE = "noise"
DATA_SEED = "data_seed"
SETTING = {name: name for name in ("K", "flow", "depth", "hidden", "hidden_layers", "posterior_hidden",
                                   "posterior_batch_norm", "prior", "t0", "t_decay", "lr", "batch_size", "epochs",
                                   "seed", "restarts", "init")}
PLAYGROUND_LINK = [SOURCE, DATASET, N_POINTS, NOISE, DATA_SEED, *SETTING.values()]
UPLOAD = "pg_upload"  # (file name, bytes) of the last accepted CSV: it survives page switches
DRAWN = "pg_drawn"  # list of [x, y] points drawn by the user
CANVAS = "pg_canvas"  # the drawing canvas's key, with its version appended (sub)
LABELS = "pg_labels"  # np.ndarray of -1 / class ids, tied to LABELS_FOR
LABELS_FOR = "pg_labels_for"  # data_id the labels were made on
LABELS_V = "pg_labels_v"  # the labeling chart's version (a new key clears its selection)
LABEL_CHART = "pg_label_chart"  # the labeling chart's key, with its version appended (sub)
LABEL_HISTORY = "pg_label_history"  # undo stack of label arrays
OWNER = "owner"  # this browser session's id for the engine (one active job per session)
JOB = "pg_job"  # the current engine Job (queued, running or finished)
RESULT = "pg_result"  # the last finished run (ui.results.RunResult)
RUNS = "pg_runs"  # this session's last 10 runs (RunResult), newest first
RUN_COUNTER = "run_counter"  # the number of the session's last run (RunResult.number)
NOTICE = "pg_notice"  # a one-shot message shown on the next run
LABELING_OPEN = "pg_labeling_open"  # the labeling expander is open (its chart is built and sent only then)
CHECKPOINT_OPEN = "pg_ckpt_open"  # the "Load a checkpoint" expander is open (its uploader is built only then)
USE_CHECKPOINT = "pg_use_ckpt"  # the button that uses an uploaded checkpoint on the current data
LINK_OPEN = "link_open"  # a page's "Link to this setup" expander is open (its code box is built only then)
PREFETCHED = "prefetched"  # the browser was sent the script that loads the widgets' code (ui/prefetch.py)
# two-circles lesson
LESSON_STEP = "lesson_step"  # 1..4
LESSON_LABELS = "lesson_labels"  # np.ndarray, -1 = unlabeled
LESSON_LABELS_V = "lesson_labels_v"  # chart version (a new key clears the selection)
LESSON_UNSUP_JOB = "lesson_unsup_job"
LESSON_UNSUP = "lesson_unsup_result"
LESSON_SEMI_JOB = "lesson_semi_job"
LESSON_SEMI = "lesson_semi_result"
LESSON_START_JOB = "lesson_start_job"  # a stored start rerun live
LESSON_START = "lesson_start_result"
LESSON_KEYS = (LESSON_STEP, LESSON_LABELS, LESSON_LABELS_V, LESSON_UNSUP_JOB, LESSON_UNSUP, LESSON_SEMI_JOB, LESSON_SEMI,
               LESSON_START_JOB, LESSON_START)
# mnist
MNIST_JOB = "mnist_job"
MNIST_RESULT = "mnist_result"
MNIST_DIGITS, MNIST_SIZE, MNIST_N, MNIST_PRESET, MNIST_SEED, MNIST_EPOCHS = (
    "mn_digits", "mn_size", "mn_n", "mn_preset", "mn_seed", "mn_epochs")
MNIST_LINK = [MNIST_DIGITS, MNIST_SIZE, MNIST_N, MNIST_PRESET, MNIST_SEED, MNIST_EPOCHS]


# widgets of the data and labeling panels (their keys are also their session-state entries)
SPRAY, DRAW_UNDO, DRAW_CLEAR, CSV = "pg_spray", "pg_draw_undo", "pg_draw_clear", "pg_csv"
LABEL_CLASS, LABEL_UNDO, LABEL_CLEAR, LABEL_N, LABEL_RANDOM, LABEL_SUGGEST, LABEL_COUNTS = (
    "pg_label_class", "pg_label_undo", "pg_label_clear", "pg_label_n", "pg_label_random", "pg_label_suggest",
    "pg_label_counts")


def sub(key: str, part: str) -> str:
    """The key of ``part`` of the element or panel keyed ``key`` (its figure cache, its play state, a version).

    Every derived key is built here, so two panels never collide by accident.

    Example:
        >>> sub("pg_res_replay_3", "play")
        'pg_res_replay_3_play'
    """
    return f"{key}_{part}"


def get(key: str, default: Any = None) -> Any:
    """``st.session_state[key]``, initialised to ``default`` when missing."""
    if key not in st.session_state:
        st.session_state[key] = default
    return st.session_state[key]


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def pop(key: str) -> Any:
    return st.session_state.pop(key, None)
