"""Naming a derivation's nodes for its steps (`Naming`): the user's symbols keep their names,
``names={q: x + y}`` names an intermediate, layers get z₁, y₁, ... (pre-activation, activation),
anything else u₁, u₂, ...; and the tests on a node's expression the names depend on. Moved out of
`symgrad.teaching.steps` unchanged."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import sympy as sp

from ..core import array_rules as A
from ..core import rules as R
from ..core.lower import _shape_of
from ..core.reverse import depends_on
from ..errors import SymgradError
from ..frontend.functions import leaky_relu, relu, sigmoid, softplus
from ..frontend.parse import as_expr
from .as_written import leading_ones_dropped as _leading_ones_dropped
from .pool_steps import _pool_groups
from .softmax_steps import softmax_groups
from .cross_entropy_column import softmax_named
from .cross_entropy_fold import cross_entropy_groups
from .graph_folds import PASS_THROUGH
from .cross_entropy_steps import folded as _ce_folded
from . import transposed_operand as _transposed
from .norm_affine import norm_affine
from .split_flag import is_split
from .scaled_product import scaled_product
from .sum_order import written_order

_ACTIVATIONS = (sigmoid, relu, leaky_relu, softplus, sp.tanh)


# ---------------------------------------------------------------------------------------------------
# Naming the nodes.

def _mk(name: str, shape, tensor: bool = False):
    """A display symbol of a node: scalar, matrix, or (in a tensor declaration, `sg.tensor`) a
    tensor of the node's shape, so that its steps read in the tensor vocabulary."""
    if shape == ():
        return sp.Symbol(name)
    if tensor or len(shape) != 2:
        from ..frontend.tensor import Tensor
        return Tensor(name, shape)
    return sp.MatrixSymbol(name, *shape)


def _known(d) -> list:
    """The symbols of f, which text in ``names`` / ``given`` refers to by name."""
    return [s for s in getattr(d.f, "free_symbols", ()) if isinstance(s, (sp.Symbol, sp.MatrixSymbol))]


def parsed_names(d, names) -> list:
    """(name, its expression) for each of ``names`` that parses in ``d``'s symbols, to look up in
    the lowering's memo before anything is lowered; a bad one is left to the views, which report it."""
    known, out = _known(d), []
    for sym, expr in (names or {}).items():
        try:
            out.append((sym, as_expr(expr, f"names[{sym}]", symbols=known)))
        except Exception:  # noqa: BLE001 - reported by the views, with their message
            continue
    return out


class Naming:
    """Display symbols for the forward graph's nodes (var id -> SymPy symbol or expression)."""

    def __init__(self, d, names=None, output_name=None, optional=None, fold_statistics=False):
        g, low = d.ir, d.lowering
        self.graph = g
        from ..frontend.tensor import Tensor
        # a declaration with sg.tensor: every node is shown as a tensor (x.sum(axis=0), x̂ᵀ @ δ)
        self.tensor = any(isinstance(a, Tensor) for a in sp.preorder_traversal(d.f))
        named_ids = {}                     # the user's names, looked up (never lowered here)
        for sym, ex in parsed_names(d, names):
            v = low.memo.get(ex)
            if v is not None:
                named_ids[v.id] = str(sym)
        self.fwd = as_read(g, d.output, low.exprs, named_ids, root_as_is=is_split(d))
        self.consumers: dict[int, list] = defaultdict(list)
        for e in self.fwd:
            for v in e.inputs:
                self.consumers[v.id].append(e)
        disp: dict[int, Any] = {}
        used: set[str] = set()
        for e in self.fwd:
            if e.prim is R.param_p or e.prim is R.input_p:
                disp[e.out.id] = e.params[0]
                used.add(str(e.params[0]))
            elif e.prim is R.const_p:
                disp[e.out.id] = e.prim.to_sympy((), e.params, e.out.shape)
        self.user_named: set[int] = set()
        self.user_exprs: dict = {}        # the user's expression of a named node -> its name
        # the nodes of f and of its gradients (softmax(z) is a node of the gradient of log_softmax(z))
        in_f = {e.out.id for e in g.ancestors([d.output] + [v for v in d.gradient_vars if v is not None])}
        for sym, expr in (names or {}).items():
            v = low(as_expr(expr, f"names[{sym}]", symbols=_known(d)))
            # a node of the derivation, not one this lowering just added (nor one an earlier view added:
            # the graph keeps what was lowered into it, and the name must not silently vanish then)
            if v.id not in in_f:
                raise SymgradError(f"names: {sym} = {expr} is not a subexpression of f = {d.f}; "
                                   f"name a part of f exactly as it appears in f")
            name = str(sym)
            disp[v.id] = sym if not isinstance(sym, str) and _shape_of(sym) == v.shape else _mk(name, v.shape, self.tensor)
            self.user_named.add(v.id)
            used.add(name)
            self.user_exprs[low.exprs[v.id]] = disp[v.id]   # v's form in the expanded gradients
        # names symgrad gives (x̂, μ, σ² of a batch norm): taken where the node is one of f's and the
        # user has named neither it nor anything else so
        for sym, expr in (optional or {}).items():
            v = low(as_expr(expr, "names", symbols=_known(d)))
            if v.id in in_f and v.id not in disp and str(sym) not in used:
                disp[v.id] = _mk(str(sym), v.shape, self.tensor)
                self.user_named.add(v.id)
                used.add(str(sym))
                self.user_exprs[low.exprs[v.id]] = disp[v.id]
        root = d.output
        if root.id not in disp or g.producer[root.id].prim is R.const_p:
            has_mat = any(isinstance(s, sp.MatrixSymbol) for s in getattr(d.f, "free_symbols", ()))
            first = ["L", "f"] if has_mat else ["f", "L"]
            name = output_name or next(n for n in first + ["J", "F", "out"] if n not in used)
            disp[root.id] = _mk(name, root.shape, self.tensor)
            used.add(name)
        self.used = used
        self.disp = disp
        # a matrix layer's z⁽ᵏ⁾ and y⁽ᵏ⁾ by the user's expression: a gradient written in the user's
        # symbols says softmax(z⁽²⁾) − d, as the forward pass and the Gradient section name it, not
        # softmax(W₂·σ(W₁·x + b₁) + b₂) − d
        self.lowering_exprs = low.exprs
        self.layer_exprs: dict = {}
        self.transparent: dict[int, int] = {}      # matmul W·y (id) -> its bias add z = W·y + b (id)
        for e in self.fwd:
            if e.prim is R.matmul_p and e.out.id not in disp:
                cs = self.consumers[e.out.id]
                if (self.tensor and len(cs) == 1 and _matvec_view(cs[0], self.consumers, g.producer)
                        and cs[0].out.id not in disp):      # W @ x + b of a vector x: through its reshape
                    cs = self.consumers[cs[0].out.id]
                if len(cs) == 1 and _is_plain_sum(cs[0]):
                    self.transparent[e.out.id] = cs[0].out.id
        # a product scaled by a number (attention's scores S = Q @ K.T/√d) is one node of the slide
        # too, not u₁ = Q @ K.T then S = u₁/√2; unlike a bias add, the scale reaches the product's
        # gradient: ∂L/∂Q = (∂L/∂S)/√2 @ K, written from ∂L/∂S (`scaled_product`)
        self.scaled: dict[int, Any] = {}        # matmul (id) -> the number its one consumer scales it by
        for e in self.fwd:
            c = scaled_product(e, self.consumers, disp) if self.tensor else None
            if c is not None and e.out.id not in self.transparent:
                self.transparent[e.out.id] = self.consumers[e.out.id][0].out.id
                self.scaled[e.out.id] = c
        self._name_layers()
        if fold_statistics:        # a norm layer's γ ⊙ x̂ + β is one node, y: ∂L/∂γ = Σ ∂L/∂y ⊙ x̂
            for t, add in norm_affine(self, disp).items():
                self.transparent[t] = add
                if add not in disp and "y" not in used:
                    disp[add] = _mk("y", self.graph.producer[add].out.shape, self.tensor)
                    used.add("y")
        k = 0
        self.generic: set[int] = set()     # nodes named u₁, u₂, ... (skipped when a chain is written out)
        # a tensor declaration's reshapes and broadcasts (γ viewed as (1, D), then (N, D)) are no
        # nodes of the slide: shown as their input, with NumPy's broadcasting, and no step of their own
        self.alias: dict[int, int] = {}    # var id -> the var it shows as
        for e in self.fwd:        # z⁽²⁾ = V @ y⁽¹⁾, not u₂ = V @ y⁽¹⁾ then z⁽²⁾ = u₂.reshape(2)
            if (self.tensor and e.out.id in disp and e.out.id not in self.user_named
                    and e.out.id != d.output.id and _matvec_view(e, self.consumers, g.producer)
                    and len(e.out.shape) == 1 and e.inputs[0].id not in disp):
                disp[e.inputs[0].id] = _mk(str(disp.pop(e.out.id)), e.out.shape, self.tensor)
        for e in self.fwd:
            if (self.tensor and e.out.id not in disp and e.prim in PASS_THROUGH
                    and len(self.consumers[e.out.id]) == 1
                    and (_broadcast_like(e) or _matvec_view(e, self.consumers, g.producer))):
                src = e.inputs[0].id
                self.alias[e.out.id] = self.alias.get(src, src)
        # K.T inside a product (attention's Q @ K.T) is no node of the slide either: u = Q @ K.T,
        # and ∂L/∂K is written from ∂L/∂u, not through a u₁ = K.T and its own step
        self.transposed = {e.out.id: e.inputs[0].id for e in self.fwd
                           if self.tensor and _transposed.into_product(e, self.consumers, disp)}
        for vid, src in self.transposed.items():
            self.alias[vid] = self.alias.get(src, src)
        # a pooling layer is one step (u = max_pool2d(y, 2)), not its lowering; the nodes no view
        # shows (a pool's and a batch statistic's insides) take no number: the u's shown are u₁, u₂, ...
        self.pools = _pool_groups(g, self.consumers, self.fwd, d.output.id)
        self.pool_entry = {p.windows.out.id: vid for vid, p in self.pools.items()}
        self.hidden: set[int] = set()
        self.mean_entry: dict[int, int] = {}       # the Σ inside a mean of every entry -> the mean
        for p in self.pools.values():
            self.hidden |= p.inner
        # a softmax over an axis is one step too (A = softmax(s, axis=1)), not logsumexp then exp
        self.softmaxes = softmax_groups(g, self.consumers, self.fwd) if self.tensor else {}
        self.softmax_entry = {sm.z: vid for vid, sm in self.softmaxes.items()}
        for sm in self.softmaxes.values():
            self.hidden |= sm.inner
        # a softmax cross-entropy is one node of the picture (all of them) and one step of the text
        # (those of the logits, over the batch): L = cross_entropy(z, y), not its lowering
        self.ces_all = cross_entropy_groups(g, self.consumers, self.fwd, self.softmaxes)
        if softmax_named({**(names or {}), **(optional or {})}):      # the lecture derives δ = f − f*
            self.ces_all = {end: ce for end, ce in self.ces_all.items() if ce.reduction != "example"}
        self.ces = _ce_folded(self.ces_all, depends_on(g, d.wrt_vars)) if d.mode == "reverse" else {}
        self.ce_entry = {ce.z: end for end, ce in self.ces.items()}
        for ce in self.ces.values():
            self.hidden |= ce.inner
            for end in [end for end in self.softmaxes if end in ce.inner]:     # a log_softmax inside it
                del self.softmaxes[end]
        self.softmax_entry = {sm.z: vid for vid, sm in self.softmaxes.items()}
        if fold_statistics:          # as `_statistics_definitions` hides them
            from .graph_folds import _mean, statistics
            for vid, (label, folded, *_) in statistics(g, self.consumers, self.fwd).items():
                if label.startswith(("mean", "variance")):
                    m = _mean(g, self.consumers, g.producer[vid])
                    # ddof=1, or ε fused into a mean: shown as lowered; a variance with ε fused in
                    # (var/4 + ε, a number of features) is σ² then σ² + ε (`_statistics_definitions`)
                    if m is None or m[3] or (m[4] and not label.startswith("variance")):
                        continue
                if any(vid == end or vid in ce.inner for end, ce in self.ces.items()):
                    continue                         # inside a cross-entropy's one step
                self.hidden |= folded
                if label == "mean":                  # a loss's mean of every entry: one backward step
                    self.mean_entry.update({i: vid for i in folded})
        # W @ x of a vector x: the product's (m, 1) lowering is the (m,) vector the slide writes
        self.matvec_shape = {e.inputs[0].id: tuple(e.out.shape) for e in self.fwd
                             if e.out.id in self.alias and _matvec_view(e, self.consumers, g.producer)
                             and len(e.out.shape) == 1}
        # a scalar of hyperparameters alone (the mean's 1/N of sum(...)/N) is no node of the slide:
        # written where it is used, f = u₄/N, not u₅ = 1/N then f = u₅·u₄
        self.constants: set[int] = set()
        for e in self.fwd:
            if (self.tensor and e.prim is R.ewise_p and e.out.shape == () and e.out.id not in disp
                    and e.out.id != d.output.id and e.inputs
                    and all(g.producer[v.id].prim in (R.input_p, R.const_p) and v.shape == () and v.id in disp
                            for v in e.inputs)):
                disp[e.out.id] = e.params[0].xreplace({R.ph(j): disp[v.id] for j, v in enumerate(e.inputs)})
                self.constants.add(e.out.id)
        for e in sorted(self.fwd, key=lambda e: e.out.id in self.hidden):     # the hidden ones last
            if e.out.id in self.alias:
                continue
            if e.out.id not in disp and e.out.id not in self.transparent:
                k += 1
                disp[e.out.id] = _mk(self._free(f"u{k}"), self.matvec_shape.get(e.out.id, e.out.shape), self.tensor)
                self.generic.add(e.out.id)
        for e in self.fwd:
            if e.out.id in self.alias and self.alias[e.out.id] not in self.transparent:
                disp[e.out.id] = disp[self.alias[e.out.id]]
                if e.out.id in self.transposed:
                    disp[e.out.id] = disp[self.transposed[e.out.id]].T
        self.written = self._reshapes_as_written(d.f)
        for vid, p in self.pools.items():            # the max over the window is the pool's value
            if p.end != vid and p.end not in self.user_named:
                disp[p.end] = disp[vid]
        for t in self.transparent:
            a, b = self.graph.producer[t].inputs
            if self.graph.producer[t].prim is R.ewise_p:          # a norm layer's x̂ ⊙ γ
                disp[t] = disp[a.id] * disp[b.id]
                continue
            disp[t] = disp[a.id] @ disp[b.id] if self.tensor else sp.MatMul(disp[a.id], disp[b.id])
        for vid, src in self.alias.items():          # (W @ x).reshape(m) shows as W @ x
            if src in self.transparent:
                disp[vid] = disp[src]

    def _reshapes_as_written(self, f) -> dict:
        """{var id: the user's x.reshape(...)} for each reshape the lowering merged with NumPy's
        broadcasting (b.reshape(4, 1, 1) against (N, 4, H, W) is lowered as one reshape to
        (1, 4, 1, 1)): the forward pass writes it as f's header does, as the user wrote it."""
        from ..frontend.tensor import Reshape
        written = {r for r in sp.preorder_traversal(f) if isinstance(r, Reshape)}
        out = {}
        for e in self.fwd:
            if e.prim is not A.reshape_p or e.out.id in self.alias:
                continue
            src = self.disp.get(e.inputs[0].id)
            same = [r for r in written if r.args[0] == src and r.shape != e.out.shape
                    and _leading_ones_dropped(r.shape) == _leading_ones_dropped(e.out.shape)]
            if len(same) == 1:
                out[e.out.id] = same[0]
        return out

    def _free(self, name):
        while name in self.used:
            name = name + "'"
        self.used.add(name)
        return name

    def _name_layers(self):
        """Layers named as the lecture does: z⁽ᵏ⁾ = W⁽ᵏ⁾·y⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾ (an affine node, or the input of
        an activation) and y⁽ᵏ⁾ = f(z⁽ᵏ⁾), where k counts the activations between the node and the
        inputs (its depth), not the nodes met so far: two neurons of the first layer are z⁽¹⁾₁ and
        z⁽¹⁾₂, and tanh(c) of an input c is y⁽¹⁾. A network of one layer says just z and y."""
        depth: dict[int, int] = {}
        plan: dict[int, tuple] = {}            # var id -> (var, letter, layer), in forward order
        activation_inputs: set[int] = set()
        for e in self.fwd:
            d = max((depth.get(v.id, 0) for v in e.inputs), default=0)
            sm = R.softmax_operands(self.graph, e)
            if _is_activation(e) or sm is not None:       # y = f(z), or y = softmax(z)
                inp = sm[0] if sm is not None else e.inputs[0]
                k = depth.get(inp.id, 0) + 1
                depth[e.out.id] = k
                # its input is z⁽ᵏ⁾, unless it is already the y of the layer below (softmax(σ(z)))
                if not self.graph.producer[inp.id].prim.leaf and plan.get(inp.id, (0, ""))[1] != "y":
                    plan[inp.id] = (inp, "z", k)
                    activation_inputs.add(inp.id)
                plan[e.out.id] = (e.out, "y", k)
            else:
                depth[e.out.id] = d
                if _is_plain_sum(e) and any(self.graph.producer[v.id].prim is R.matmul_p for v in e.inputs):
                    plan[e.out.id] = (e.out, "z", d + 1)
        # an affine node that is not an activation's input, in a layer whose activation takes another
        # node (x @ W₁ + b₁ normalised before relu): a⁽¹⁾ = x @ W₁ + b₁, and z⁽¹⁾ the batch norm's
        # γ ⊙ x̂ + β that relu takes; z⁽¹⁾₁ and z⁽¹⁾₂ would read as two neurons, or two entries
        into = {vid for vid, (_, letter, _) in plan.items() if letter == "z" and vid in activation_inputs}
        layers = {plan[vid][2] for vid in into}
        for vid, (v, letter, k) in list(plan.items()):
            if letter == "z" and vid not in into and k in layers and self.tensor:
                plan[vid] = (v, "a", k)
        todo = [(v, letter, k) for v, letter, k in plan.values() if v.id not in self.disp]
        deep = max((k for _, _, k in plan.values()), default=0) > 1
        hidden = _activation_letter(self.used)
        count = defaultdict(int)
        for _, letter, k in todo:
            count[letter, k] += 1
        seen = defaultdict(int)
        for v, letter, k in todo:
            shown = hidden if letter == "y" else letter
            name = f"{shown}^({k})" if deep else shown
            if count[letter, k] > 1:                  # several neurons in one layer: z⁽¹⁾₁, z⁽¹⁾₂
                seen[letter, k] += 1
                name += f"_{seen[letter, k]}"
            if name in self.used:
                continue
            self.used.add(name)
            self.disp[v.id] = _mk(name, v.shape, self.tensor)
            expr = self.lowering_exprs.get(v.id)
            if expr is not None and v.shape != ():
                self.layer_exprs[expr] = self.disp[v.id]

    def layers_after_names(self) -> dict:
        """`layer_exprs` for an expression the user's names were put into already: a layer's
        expression as those names write it too (z⁽²⁾ for h @ W₂ + b₂ where the user named h =
        relu(X @ W₁ + b₁); keyed by relu(X @ W₁ + b₁) @ W₂ + b₂ alone, it no longer matched and the
        logits were written out, softmax(h @ W₂ + b₂))."""
        if not self.user_exprs:
            return self.layer_exprs
        out = dict(self.layer_exprs)
        for k, v in self.layer_exprs.items():
            named = k.xreplace(self.user_exprs)
            if named != k and named not in self.user_exprs:
                out.setdefault(named, v)
        return out

    def owner(self, vid: int) -> int:
        """The node that stands for ``vid`` in the steps (a transparent W·y stands for its z; a
        reshape or broadcast for the node it feeds)."""
        while vid in self.alias:
            vid = self.consumers[vid][0].out.id
        return self.transparent.get(vid, vid)


def _stem(name: str) -> str:
    """A name's letters before its index: y for y, y₁, y1, y_pred, y^(1)."""
    return re.match(r"[^_^\d']*", name).group(0)


def _activation_letter(used) -> str:
    """The letter of a layer's activation: y⁽ᵏ⁾ as 11-785 writes it, or cs231n's h⁽ᵏ⁾ where one of
    the user's names already reads y (labels y, a target y_pred): y⁽¹⁾ beside the labels y reads as
    two values of one thing. y again where h is taken too."""
    stems = {_stem(str(n)) for n in used}
    return next((c for c in ("y", "h") if c not in stems), "y")


def _broadcast_like(e) -> bool:
    """A movement NumPy's broadcasting does by itself: an expand, or a reshape that only adds or
    drops axes of size 1 (γ of shape (D,) viewed as (1, D)); not a reshape that regroups entries."""
    if e.prim is not A.reshape_p:
        return True
    return _leading_ones_dropped(e.inputs[0].shape) == _leading_ones_dropped(e.out.shape)


def _matvec_view(e, consumers, producer) -> bool:
    """A reshape symgrad put around a matrix-vector product: W @ x with x of shape (n,) is lowered
    as W @ x.reshape(n, 1), then .reshape(m) of the (m, 1) result. The slide writes u = W @ x, one
    line: neither reshape is a node of its own."""
    if e.prim is not A.reshape_p:
        return False
    i, o = tuple(e.inputs[0].shape), tuple(e.out.shape)
    if len(i) == 1 and o == (i[0], 1):                      # x.reshape(n, 1), the product's right operand
        c = consumers[e.out.id][0]
        return c.prim is R.matmul_p and len(c.inputs) == 2 and c.inputs[1].id == e.out.id
    if len(i) == 1 and o == (1, i[0]):                      # x.reshape(1, n), the product's left operand
        c = consumers[e.out.id][0]
        return c.prim is R.matmul_p and len(c.inputs) == 2 and c.inputs[0].id == e.out.id
    if len(o) == 1 and i in ((o[0], 1), (1, o[0])):         # (W @ x).reshape(m), the product's result
        p = producer.get(e.inputs[0].id)
        if p is None or p.prim is not R.matmul_p or len(consumers[p.out.id]) != 1:
            return False
        vec = p.inputs[1] if i[1] == 1 else p.inputs[0]      # the (n, 1) or (1, n) operand
        return len(vec.shape) == 2 and 1 in tuple(vec.shape)
    return False


def as_read(g, out, exprs=None, named=None, root_as_is=False) -> list:
    """The equations ``out`` depends on in the order a reader meets them: each operand before the
    node that takes it, operands left to right (attention's Q, K, S, A, then V, Y — not the order
    the lowering happened to make them, V, K, Q); a sum's operands in the order its line prints
    them: named ones (``named``: var id -> name) by name, as den = sigx + xpysqr, then the others
    in the order of the user's sum as the printers write it (``exprs``: var id -> its expression),
    the sigmoid neuron's w₀·x₀ before w₁·x₁, and f = z³ + cos(x) − x²·y's u₁ = z³ before
    u₂ = cos(x) — f's own sum too, unless ``root_as_is`` (a loss `loss_terms` split: L = L_data +
    L_reg in its own order); a scalar product's factors as its line prints them too, a division's
    numerator first (the notes' a = b·c reads b and what b needs before c)."""
    named = named or {}
    order, seen = [], set()

    def operands(i):
        e = g.producer[i]
        ins = list(e.inputs)
        whole = (exprs or {}).get(i)
        if isinstance(whole, sp.Mul) and _is_plain_product(e):
            # a product's factors as its line prints them: a = b·c reads b (and what b needs) first,
            # the notes' d = f + 3, e = f·g, b = d + e, c = e + 2 (the lowering had made c first)
            # (a division as printed, numerator first: cs231n's num·invden reads num before den)
            # (only where each operand is a factor: a cross-entropy's −1 went into its node)
            factors = sorted(whole.args, key=lambda a: bool(a.is_Pow and a.exp.is_negative))
            if all(exprs.get(v.id) in factors for v in ins):
                return sorted(ins, key=lambda v: factors.index(exprs[v.id]))
        if i == out.id and root_as_is:
            return ins      # the loss's own sum as `loss_terms` ordered it: L = L_data + L_reg
        if not (isinstance(whole, sp.Add) and _is_signed_sum(e)):
            return ins      # not a sum of its inputs: its operands in the equation's order
        # an operand the sum subtracts (w₂ of w₀·x₀ − w₁·x₁ − w₂) is the term −w₂, one it scales
        # (2·u₆ of exp(u₃) + 2·u₆, a product of gates under its coefficient) the term 2·(x·y)·z
        cores = [t.as_coeff_Mul()[1] for t in written_order(whole)]
        place = {v.id: cores.index(exprs[v.id].as_coeff_Mul()[1])
                 if exprs.get(v.id) is not None and exprs[v.id].as_coeff_Mul()[1] in cores else len(cores)
                 for v in ins}
        key = {v.id: (0, sp.Symbol(named[v.id]).sort_key(), 0) if v.id in named else (1, (), place[v.id])
               for v in ins}
        return sorted(ins, key=lambda v: key[v.id])            # stable: the rest keep their order
    stack = [(out.id, False)]
    while stack:
        i, done = stack.pop()
        if done:
            order.append(g.producer[i])
            continue
        if i in seen:
            continue
        seen.add(i)
        stack.append((i, True))
        stack.extend((v.id, False) for v in reversed(operands(i)) if v.id not in seen)
    return order


def _is_plain_product(e) -> bool:
    """A scalar product of its inputs, each once (a₀·a₁, a₀·a₁·a₂)."""
    phs = R.placeholders(len(e.inputs))
    return (e.prim is R.ewise_p and e.out.shape == () and len(e.inputs) > 1
            and isinstance(e.params[0], sp.Mul) and set(e.params[0].args) == set(phs))


def _is_plain_sum(e) -> bool:
    return e.prim is R.ewise_p and e.params[0] == sp.Add(*R.placeholders(len(e.inputs))) and len(e.inputs) > 1


def _is_signed_sum(e) -> bool:
    """A sum of its inputs, each added, subtracted or scaled by a number once (a₀ + a₁,
    a₀ + a₁ − a₂, a₀ + 2·a₁)."""
    if e.prim is not R.ewise_p or len(e.inputs) < 2 or not isinstance(e.params[0], sp.Add):
        return False
    phs = R.placeholders(len(e.inputs))
    terms = e.params[0].args
    return len(terms) == len(phs) and {t.as_coeff_Mul()[1] for t in terms} == set(phs)


def _is_activation(e) -> bool:
    body = e.params[0] if e.prim is R.ewise_p else None
    return body is not None and len(e.inputs) == 1 and isinstance(body, _ACTIVATIONS) and body.args[0] == R.ph(0)

