"""The optimizers' paths on a 2-D loss surface, for the optimizers lecture: SGD, momentum, Nesterov,
AdaGrad, RMSProp and Adam from the same start, one coloured path each over the surface's contour
lines, the minimum marked.

The gradient is derived by symgrad (``sg.grad`` of the surface, turned into NumPy by
``sympy.lambdify``); every step is symgrad's own optimizer (``opt.lambdify()``: the update rule of
symgrad/compiling/optim.py, the one the compiled training steps use), applied to the pair
p = (w₁, w₂) entrywise. Nothing here re-writes an update rule.

Two surfaces: an ill-conditioned quadratic, ½(w₁² + 10·w₂²) (plain SGD zig-zags across the narrow
valley while it crawls along it), and Rosenbrock's banana valley, (1 − w₁)² + 10·(w₂ − w₁²)².

    PYTHONPATH=. python examples/teaching/optimizer_paths.py [--out DIR]

writes out/teaching/optimizer_paths.png (needs matplotlib: pip install matplotlib).
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

import symgrad as sg
from symgrad.compiling import optim

w1, w2 = sp.symbols("w_1 w_2", real=True)
INSTALL = "pip install matplotlib"


@dataclass(frozen=True)
class Surface:
    title: str
    loss: sp.Expr
    start: tuple
    minimum: tuple
    box: tuple                  # (w₁ from, w₁ to, w₂ from, w₂ to) shown
    optimizers: tuple           # (label, optimizer) pairs, each from `start`
    steps: int
    note: str = ""              # said under the panel: what a reader might take for a fault


def _lecture_optimizers(sgd, mom, nag, ada, rms, adam) -> tuple:
    """The lecture's six optimizers, with learning rates chosen per surface."""
    return (("SGD", optim.SGD(lr=sgd)),
            ("momentum", optim.SGD(lr=mom, momentum=0.9)),
            ("Nesterov", optim.SGD(lr=nag, momentum=0.9, nesterov=True)),
            ("AdaGrad", optim.Adagrad(lr=ada)),
            ("RMSProp", optim.RMSprop(lr=rms, alpha=0.9)),
            ("Adam", optim.Adam(lr=adam, betas=(0.9, 0.999))))


QUADRATIC = Surface("ill-conditioned quadratic  L = ½(w₁² + 10·w₂²)", (w1 ** 2 + 10 * w2 ** 2) / 2,
                    start=(-4.5, 1.5), minimum=(0.0, 0.0), box=(-5, 1.5, -2.0, 2.0),
                    optimizers=_lecture_optimizers(0.18, 0.02, 0.02, 1.0, 0.1, 0.3), steps=40)
ROSENBROCK = Surface("Rosenbrock  L = (1 − w₁)² + 10·(w₂ − w₁²)²", (1 - w1) ** 2 + 10 * (w2 - w1 ** 2) ** 2,
                     start=(0.0, 2.5), minimum=(1.0, 1.0), box=(-1.0, 2.0, -1.0, 3.0),
                     optimizers=_lecture_optimizers(0.01, 0.001, 0.001, 0.3, 0.02, 0.05), steps=150,
                     note="After 150 steps no path has reached the minimum (1, 1) yet, the adaptive\n"
                          "AdaGrad, RMSProp and Adam included: expected, the valley's floor is nearly\n"
                          "flat (its gradient small); more steps bring them there.")
SURFACES = (QUADRATIC, ROSENBROCK)


def gradient(loss: sp.Expr):
    """∇L as a NumPy function of p = (w₁, w₂), from symgrad's derivative of ``loss``."""
    g = sg.grad(loss, [w1, w2])
    f = sp.lambdify([w1, w2], g, modules="numpy")
    return lambda p: np.array(f(p[0], p[1]), dtype=float)


def path(opt, loss: sp.Expr, start, steps: int) -> np.ndarray:
    """The points p₀ = start, p₁, …, p_steps that ``opt``'s own update rule takes on ``loss``:
    an array of shape (steps + 1, 2); t counts the steps from 1, the state starts as torch's."""
    grad, update = gradient(loss), opt.lambdify()
    p = np.array(start, dtype=float)
    state = opt.init_state(p.shape)
    points = [p]
    for t in range(1, steps + 1):
        p, state = update(p, grad(p), state, t)
        points.append(p)
    return np.array(points)


def paths(surface: Surface) -> dict:
    """{label: path} for each of the surface's optimizers."""
    return {label: path(opt, surface.loss, surface.start, surface.steps) for label, opt in surface.optimizers}


COLOURS = {"SGD": "#1f77b4", "momentum": "#ff7f0e", "Nesterov": "#2ca02c", "AdaGrad": "#d62728",
           "RMSProp": "#9467bd", "Adam": "#8c564b"}


def _panel(ax, surface: Surface):
    f = sp.lambdify([w1, w2], surface.loss, modules="numpy")
    a, b, c, d = surface.box
    X, Y = np.meshgrid(np.linspace(a, b, 400), np.linspace(c, d, 400))
    Z = f(X, Y)
    # contour lines spaced evenly in log L: the narrow valley shows as nested ellipses (bananas)
    levels = np.geomspace(max(float(Z.min()), 1e-3), float(Z.max()), 18)
    ax.contour(X, Y, Z, levels=levels, colors="0.65", linewidths=0.8)
    rates = {label: opt.lr for label, opt in surface.optimizers}
    for label, pts in paths(surface).items():       # the learning rate decides the path: said with it
        ax.plot(pts[:, 0], pts[:, 1], "-o", color=COLOURS[label], lw=2, ms=3,
                label=f"{label} (η = {rates[label]:g})", alpha=0.9)
    ax.plot(*surface.start, "o", color="black", ms=9, zorder=5)
    ax.annotate("start", surface.start, xytext=(8, 8), textcoords="offset points", fontsize=12)
    ax.plot(*surface.minimum, "*", color="gold", mec="black", ms=20, zorder=6, label="minimum")
    ax.set(xlim=(a, b), ylim=(c, d), xlabel="$w_1$", ylabel="$w_2$")
    ax.xaxis.label.set_size(14)
    ax.yaxis.label.set_size(14)
    ax.set_title(f"{surface.title}\n{surface.steps} steps from {surface.start}", fontsize=13)
    ax.set_aspect("equal")
    # under the panel, off the paths; the note (what a reader might take for a fault) above its entries
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=11, frameon=False,
              title=surface.note or None, title_fontsize=11)


def figure(surfaces=SURFACES):
    """Every surface's paths side by side, each panel with its legend (the learning rates, which
    differ per surface): a pyplot Figure. Needs matplotlib; without it an ImportError that says
    ``pip install matplotlib``."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(f"the picture of the optimizers' paths needs matplotlib: {INSTALL}") from e
    fig, axes = plt.subplots(1, len(surfaces), figsize=(7.5 * len(surfaces), 8), squeeze=False)
    for ax, surface in zip(axes[0], surfaces):
        _panel(ax, surface)
    fig.suptitle("The optimizers' paths (steps by symgrad.compiling.optim, ∇L by sg.grad)", fontsize=15)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def save(path_out: Path, surfaces=SURFACES) -> Path:
    """Draw every surface's paths side by side and write the picture (PNG, PDF or SVG by the
    suffix). Needs matplotlib; without it an ImportError that says ``pip install matplotlib``."""
    fig = figure(surfaces)
    import matplotlib.pyplot as plt
    path_out = Path(path_out)
    path_out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path_out, dpi=150)
    plt.close(fig)
    return path_out


def write_picture(out: Path) -> Path | None:
    """Write out/optimizer_paths.png and say where; without matplotlib say how to install it."""
    try:
        written = save(Path(out) / "optimizer_paths.png")
    except ImportError as e:
        print(f"(no picture of the optimizers' paths: {e})")
        return None
    print(f"picture of the optimizers' paths: {written}")
    return written


def build() -> tuple:
    """The update rules the picture draws, as the notes write them (`Equations`: text, LaTeX,
    Jupyter): SGD, momentum and Nesterov in the velocity form, AdaGrad, RMSProp, Adam."""
    return tuple(opt.view(form="notes") for _, opt in QUADRATIC.optimizers)


def main(argv=None):
    try:
        from _common import arguments
    except ImportError:  # imported as a module of the package examples.teaching
        from ._common import arguments
    args = arguments(argv, __doc__)
    for rule in build():
        print(rule.render(args.format if args.format != "markdown" else "unicode"), end="\n\n")
    for surface in SURFACES:
        print(surface.title)
        for label, pts in paths(surface).items():
            end = pts[-1]
            print(f"  {label:9s} after {surface.steps} steps: w = ({end[0]:.4g}, {end[1]:.4g})")
    write_picture(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
