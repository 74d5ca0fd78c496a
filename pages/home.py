"""Home: what VMoNF is, in one screen."""

from ui.frame import front_door

front_door()  # a deep link on a fresh server runs app.py first (ui/frame.py)


import streamlit as st

from ui.cluster import engine_status
from ui.figures import data_figure
from vmonf_core.datasets import pinwheel

st.title("VMoNF Explorer")
st.markdown(
    "A playground for the **Variational Mixture of Normalizing Flows** "
    "(Pires & Figueiredo, ESANN 2020, [arXiv:2009.00585](https://arxiv.org/abs/2009.00585)): "
    "cluster data with a mixture whose components are normalizing flows, trained by variational inference."
)
left, right = st.columns([3, 2])
with left:
    st.subheader("The model")
    st.markdown(
        "- **K flows** $p(x\\mid k)$: each an invertible network (RealNVP, MAF or LU-affine + PReLU) "
        "that turns a Gaussian into whatever shape the cluster has.\n"
        "- **A prior** $p(k)$, uniform or learned, and the exact density "
        "$\\log p(x) = \\operatorname{logsumexp}_k\\,[\\log p(k) + \\log p(x\\mid k)]$.\n"
        "- **A posterior network** $q(k\\mid x) = \\mathrm{softmax}(\\mathrm{logits}(x)/T)$: an MLP that assigns "
        "each point to a component. The clustering is $\\arg\\max_k q(k\\mid x)$."
    )
    st.subheader("The ELBO")
    st.latex(r"\mathrm{ELBO}(x) = \sum_k q(k\mid x)\,\big[\log p(x\mid k) + \log p(k) - \log q(k\mid x)\big]")
    st.latex(r"\mathrm{ELBO}(x) \;\le\; \log p(x)")
    st.markdown(
        "Its three terms: the **expected log-likelihood** $\\mathbb{E}_q[\\log p(x\\mid k)]$, minus the "
        "**cross-entropy** of $q$ with the prior, plus the **entropy** of $q$. The gap to $\\log p(x)$ is "
        "$\\mathrm{KL}(q\\,\\|\\,p(k\\mid x))$. Flows and $q$ are trained together with Adam."
    )
    st.subheader("The temperature")
    st.markdown(
        "$T$ starts at $T_0$ and decays as $T = \\max(T_{min}, T_0 e^{-\\text{rate}\\cdot\\text{step}})$. A high $T$ "
        "keeps $q$ soft so every flow sees every point early on; a low $T$ sharpens $q$ into a hard partition."
    )
with right:
    x, y = pinwheel(600, seed=0)
    st.plotly_chart(data_figure(x, truth=y, title="The pinwheel: 5 curved clusters"), width="stretch", key="home_fig")
    engine_status()  # the device, once torch is loaded, and the training engine

st.subheader("Pages")
c1, c2, c3 = st.columns(3)
with c1:
    st.page_link("pages/playground.py", label="Playground", icon=":material/tune:")
    st.caption("Pick, draw or upload 2-D data, train live, compare with k-means and GaussianMixture, label points.")
with c2:
    st.page_link("pages/two_circles.py", label="Two circles lesson", icon=":material/radio_button_unchecked:")
    st.caption("Why unsupervised flows often miss the two circles (the start decides, not the objective), and how 16 "
               "labels per circle fix it.")
with c3:
    st.page_link("pages/mnist.py", label="MNIST digits", icon=":material/grid_view:")
    st.caption("Cluster handwritten digits with a mixture of MAFs: sample grids and the contingency table.")
