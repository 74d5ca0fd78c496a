"""Data, settings and text of the two-circles lesson (kept out of the page script)."""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from vmonf_core.experiments import Data, load_data, resolve

SEED = 0
LABELS_PER_CIRCLE = 16


def unsup_config() -> dict:
    return resolve("circles", train=dict(seed=SEED, epochs=25), model=dict(restarts=2))


def semi_config() -> dict:
    return resolve("circles-semi", train=dict(seed=SEED, epochs=25, pretrain_epochs=20), model=dict(restarts=2))


@st.cache_data(show_spinner=False)
def lesson_data() -> Data:
    return load_data(unsup_config(), seed=SEED)


def with_labels(data: Data, labels: np.ndarray) -> Data:
    return dataclasses.replace(data, labels=labels.copy())


STEP1 = """
Two concentric circles: an outer ring of radius 0.8 and an inner ring of radius 0.4, {n} training points.
We fit a mixture of **K = 2** RealNVP flows. **Will the mixture find the two circles on its own?**
"""

STEP2 = """
**What happened.** The unsupervised mixture cut the plane into two **half-planes**, each holding half of *both* rings.
Two facts make this the natural answer:

1. *A flow cannot pierce a hole in its base distribution.* A flow is a continuous bijection of the plane, so it maps the
   Gaussian's single blob to a single connected blob. It can bend it into a "C", but it cannot produce a ring with an empty
   middle, so one flow per ring fits badly, while a half-plane holding two arcs is easy.
2. *Distances favour the wrong grouping.* Opposite sides of the outer ring are 1.6 apart, while neighbouring points of the
   two rings are only 0.4 apart. Anything that groups nearby points (k-means, a Gaussian mixture, or the ELBO with
   smooth flows) prefers the half-plane split.

k-means and GaussianMixture, fitted to the same points, fail the same way:
"""

STEP3 = """
**Add a little supervision.** Label {m} points per circle, either at random with one click or by selecting points on the
chart yourself. Training then *pretrains* each flow on its own labeled ring (its likelihood, plus the cross-entropy of
q on the label), as in the thesis (section 5.1.2; the thesis code had the sign of the cross-entropy wrong, which is
fixed here). Afterwards every ELBO step on all points also fits the labeled points; the thesis alternated whole
labeled and unlabeled epochs, which is the `--recipe thesis` option of the command line.
"""

SEEDS_NOTE = """
The lesson runs on seed {seed}, where both outcomes are reliable. On other seeds the unsupervised run always splits the
plane (ARI near 0); the semi-supervised run usually recovers the circles, and when it does not, it is because the few
labels left one arc of a ring uncovered: add labels there.
"""
