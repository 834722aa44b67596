"""vizgrad.net: the Network Playground library (numpy + vizgrad, plotly for the drawings; no Streamlit).

    from vizgrad.net import NetConfig, Trainer, network_figure, snapshot
    tr = Trainer(NetConfig(dataset="xor", hidden=(8, 8)))
    tr.run(500)
    network_figure(snapshot(tr))

One room per idea; this package re-exports each room's public names:
    datasets   the toy datasets (Dataset, make_dataset), one row of DATASETS each
    features   the input features (x1, x2, x1x2, sin(x1) ...), one row of FEATURES each
    upload     the CSV upload parser (load_csv)
    choices    the activations, losses, optimizers and regularizations, one row each
    config     NetConfig, its validation and NetLimits, the model it builds, its URL query
    export     downloads: PyTorch code, weights JSON, loss curve CSV
    trainer    the steppable Trainer, its bounded History, the first-NaN/inf-op finder
    live       one live-panel update: a time-bounded chunk of steps in a slot of the server's limiter
    style      colours, formats and the pieces figures and live images share
    diagram    the network diagram's numbers (Snapshot) and geometry
    plane      the input plane as pixels (the output view, with the data points)
    curves     loss and gradient-norm curves, as plotly figures and as SVG
    figures    the plotly figures (hover and clicks; drawn while paused)
    svg        the live-play images (SVG) and the stats row
A new dataset, input feature, activation, loss, optimizer or regularization is one row in its
room (datasets, features, choices); nothing else switches on their names.
"""
from vizgrad.net.datasets import *  # noqa: F401,F403
from vizgrad.net.features import *  # noqa: F401,F403
from vizgrad.net.upload import *  # noqa: F401,F403
from vizgrad.net.choices import *  # noqa: F401,F403
from vizgrad.net.config import *  # noqa: F401,F403
from vizgrad.net.export import *  # noqa: F401,F403
from vizgrad.net.trainer import *  # noqa: F401,F403
from vizgrad.net.live import *  # noqa: F401,F403
from vizgrad.net.style import *  # noqa: F401,F403
from vizgrad.net.diagram import *  # noqa: F401,F403
from vizgrad.net.plane import *  # noqa: F401,F403
from vizgrad.net.curves import *  # noqa: F401,F403
from vizgrad.net.figures import *  # noqa: F401,F403
from vizgrad.net.svg import *  # noqa: F401,F403
