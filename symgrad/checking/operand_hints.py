"""Name a parameter gradient built from the wrong forward value: batch norm's
`dgamma = (dout * x).sum(axis=0)` where x̂ belongs, an RNN step's `dWh = next_h.T @ dtanh` where
prev_h belongs. w multiplies some u in f (γ ⊙ x̂, prev_h @ Wh), so ∂f/∂w is made from u; the claim is
made from another value c of the forward (an input, the layer's output, a part of u).

The slipped function keeps every value and changes only that product's derivative: the product
n = w·u becomes C + w·K, K holding c's value and C = n − w·K, both constants at the point, so the
gradients downstream of n are untouched and ∂/∂w takes K. `hints.find_hint` tries it among the
recognisers.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .hint_kind import Hint
from .hint_case import (Case, _claim_is_gradient_of, _fitted, _transposed_of, all_same, differs,
                         right_products, value_at)
from .hint_case import short_text as _text

MAX_CANDIDATES = 12
TRANSPOSED = "transposed"



def _products(f, w):
    """(node, u, kind) for each product in f with w as a direct operand: an elementwise Mul
    (u = the other factors) or a matmul (u = the other operand; kind says on which side w is)."""
    from ..frontend import tensor as T
    for n in dict.fromkeys(sp.preorder_traversal(f)):
        if isinstance(n, sp.Mul) and w in n.args:
            u = sp.Mul(*[a for a in n.args if a != w])
            if u.has(w) or not u.free_symbols:
                continue
            yield n, u, "mul"
        elif isinstance(n, T.TensorMatMul) and w in n.args and n.args[0] != n.args[1]:
            yield n, (n.args[0] if n.args[1] == w else n.args[1]), ("left" if n.args[1] == w else "right")
        elif isinstance(n, T.TensorMatMul) and w in map(_transposed_of, n.args):
            # torch's and 11-785's layout, h @ W.T: W's gradient is d.T @ h
            i = [_transposed_of(a) for a in n.args].index(w)
            yield n, n.args[1 - i], ("leftT" if i == 1 else "rightT")


def _t_text(e) -> str:
    """How a backward writes eᵀ: W.T of a tensor W, W of W.T."""
    x = _transposed_of(e)
    return x.name if x is not None else f"{_text(e)}.T"


def _outputs(case) -> list:
    """The layer's outputs of check_backward's f = Σ out ⊙ dout (`layer_outputs`)."""
    from .layer_outputs import layer_outputs
    return [o for o, _ in layer_outputs(case)]


def _candidates(case, u, shape):
    """Forward values a backward could take for u: the inputs, the layer's output, u's parts.
    Returns (value, its name in the hint)."""
    from ..frontend import tensor as T
    w = case.w
    leaves = sorted((a for a in case.f.atoms(T.Tensor)
                     if a != w and not a.name.startswith("dout") and not getattr(a, "is_integer_tensor", False)),
                    key=lambda a: a.name)
    named = ([(a, a.name) for a in leaves] + [(o, "the layer's output") for o in _outputs(case)]
             + [(a, _text(a)) for a in (u.args if isinstance(u, sp.Mul) else ())])
    from .activation_hints import _where, activations
    acts = activations(case.f)                   # an LSTM's other gates: dprev_c = dc * i for dc * f
    named += [(m, _where(m, acts)) for m in acts]
    if isinstance(u, T.Tensor) and len(u.shape) == 2 and u.shape[0] == u.shape[1]:
        named.append((u.T, TRANSPOSED))          # a square matrix: the shapes cannot tell
    act_of_u = u.args[0] if isinstance(u, T.Ewise) else u
    if isinstance(act_of_u, sp.Function) and len(act_of_u.args) == 1:   # dW2 = z.T @ ds for h.T @ ds, h = relu(z)
        z = act_of_u.args[0]
        named.append((z, f"{_text(z)}, the input of {type(act_of_u).__name__} (the value before the activation)"))
    out = []
    for c, name in named:
        try:
            ok = c != u and tuple(T.shape_of(c)) == tuple(shape) and all(c != o for o, _ in out)
        except Exception:   # noqa: BLE001 - a part without a tensor shape is no candidate
            ok = False
        if ok:
            out.append((c, name))
    return out[:MAX_CANDIDATES]


def operand_hint(case: Case):
    """The claim for w is the gradient with w's co-factor u replaced by another forward value."""
    from ..core.evaluate import numeric
    from ..frontend import tensor as T
    w = case.w
    Cs, Ts = _fitted(case)
    if not isinstance(w, T.Tensor) or all_same(Cs, Ts):
        return None
    from .recurrent_hints import _chain
    if _chain(case.f, w) is not None:   # a recurrent weight: one loop body writes every step's term, so
        return None                     # a slip is at every step (late_state_hint), never at one alone;
    for n, u, kind in _products(case.f, w):   # trying each step's product cost 30 s of a 3-step LSTM

        try:
            ushape = tuple(T.shape_of(u))
            nshape = tuple(T.shape_of(n))
        except Exception:   # noqa: BLE001
            continue
        for c, what in _candidates(case, u, ushape):
            K, C = T.tensor("_K", ushape), T.tensor("_C", nshape)
            if kind == "mul":
                new = C + w * K
            else:
                wt = w.T if kind.endswith("T") else w
                new = C + (K @ wt if kind.startswith("left") else wt @ K)

            def extra(vals, n=n, c=c, kind=kind, K=K, C=C):
                kv = np.asarray(numeric(c, vals), float)
                wv = np.asarray(vals[w.name], float)
                nv = value_at(n, vals)
                wv = wv.T if kind.endswith("T") else wv
                prod = wv * kv if kind == "mul" else (kv @ wv if kind.startswith("left") else wv @ kv)
                return {K.name: kv, C.name: nv - prod}
            from .layer_hints import _rebuilt
            if _claim_is_gradient_of(case, _rebuilt(case.f, {n: new}), extra):
                square = u if isinstance(u, T.Tensor) else _transposed_of(u)
                if what is TRANSPOSED or (square is not None and _transposed_of(u) == c):
                    back = f"d @ {_t_text(u)}" if kind == "right" else f"{_t_text(u)} @ d"
                    return Hint("transposed factor",
                                f"d{w.name} multiplies by {_t_text(c)} where "
                                f"{_t_text(u)} belongs — {_text(n)} in the forward gives d{w.name} = {back} "
                                f"(d the gradient arriving at the product); {square.name} is square, so the "
                                f"shapes cannot tell.")
                norm = any(isinstance(a, T.Variance) for a in sp.preorder_traversal(u))
                right = "x̂, the normalised input," if norm else _text(u)
                from .activation_hints import _where, activations
                acts = activations(case.f)
                act = next((m for m in acts if m == u or (isinstance(u, T.Ewise) and u.args[0] == m)), None)
                if act is not None:                # two gates of one product: a named once, at the end
                    right = _where(act, acts)
                    what = what.split(", a = ")[0] if ", a = " in right else what
                from ..frontend.masks import masks_in
                ms = masks_in(case.f)
                if len(ms) == 1:                   # the name check_backward hands the backward
                    right = right.replace(ms[0].name, "mask")
                if what == "the layer's output" and "dout" in str(u):   # dx = x * mask returned
                    return Hint("the layer's output where its gradient belongs",
                                f"d{w.name} is the forward's "
                                f"value where {right} belongs — the backward multiplies dout by the layer's "
                                f"local derivative; it does not return the layer's output.")
                return Hint("wrong operand",
                            f"d{w.name} is built from {what} where {right} belongs — the "
                            f"value {w.name} multiplies in the forward; use that same value (cached by the "
                            f"forward) in the backward.")
    return None


def relu_masked_by(case: Case, node, z, shape, mask_of, *, read_shape=None) -> bool:
    """Is the claim the gradient of f with relu(z) (``node``) masked by ``mask_of(vals)`` where
    (z > 0) belongs? relu(z) is replaced by C + z ⊙ K, K = the mask and C = relu(z) − z ⊙ K, both
    held at the point (the value kept, the mask slipped). ``read_shape``: `value_at`'s, for z. The
    one test of every "relu's mask read off the wrong thing" hint (dout, the arriving gradient, the
    argument without a term: `relu_mask_term_hint`)."""
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    K, C = T.tensor("_K", shape), T.tensor("_C", shape)

    def extra(vals):
        zv = np.broadcast_to(value_at(z, vals, read_shape), shape)
        kv = np.asarray(mask_of(vals)) * 1.0
        return {K.name: kv, C.name: np.maximum(zv, 0) - zv * kv}
    return _claim_is_gradient_of(case, _rebuilt(case.f, {node: C + z * K}), extra)


def relu_mask_hint(case: Case):
    """relu's mask taken from dout: `dx = dout * (dout > 0)` for `dout * (x > 0)`. Where the layer's
    output is relu(z), the claim is the gradient with relu(z) replaced by C + z ⊙ (dout > 0), both
    factors held at the point (the value kept, the mask read off dout)."""
    from ..frontend import tensor as T
    from ..frontend.functions import relu
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    dout = _the_dout(case)
    if dout is None:        # a loss (dout = 1): no layer output to mask, but a hidden relu may be
        return _inner_relu_mask_hint(case)
    for o in _outputs(case):
        e = o.args[0] if isinstance(o, T.Ewise) else o
        if isinstance(e, relu):
            z = e.args[0]
        elif isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args:
            z = next(a for a in e.args if a != 0)
        else:
            continue
        if relu_masked_by(case, e, z, tuple(T.shape_of(o)), lambda vals: np.asarray(vals[dout.name], float) > 0):
            zs = z.name if isinstance(z, T.Tensor) else "z"
            said = "" if isinstance(z, T.Tensor) else f" (z = {_text(z)})"
            return Hint("relu's mask taken from dout",
                        f"the claim masks with (dout > 0); relu′ is read off "
                        f"the forward's input{said}, d{zs} = dout * ({zs} > 0).")
    return _inner_relu_mask_hint(case)


def _inner_relu_mask_hint(case: Case):
    """relu's mask read off the gradient arriving at a relu inside the layer (an MLP's hidden layer:
    dZ = dA * (dA > 0) for dA * (Z > 0)). As above, with δ — the gradient at relu's output, derived
    from f with the relu replaced by a fresh tensor — where dout was."""
    from ..core.evaluate import evaluate, numeric
    from ..frontend import tensor as T
    from ..frontend.functions import relu
    from .overwrite_hints import _upstream
    outs = set(_outputs(case))
    relus = [n for n in dict.fromkeys(sp.preorder_traversal(case.f))
             if isinstance(n, T.Ewise) and isinstance(n.args[0], relu) and n not in outs and n.has(case.w)]
    for node in relus[:3]:
        z = node.args[0].args[0]
        u, Du = _upstream(case.f, node)

        def arriving(vals, node=node, u=u, Du=Du):        # δ at relu's output, at the point
            return np.asarray(evaluate(Du.ir, [Du.gradient_vars[0]], {**vals, u.name: numeric(node, vals)})[0],
                              float) > 0
        if relu_masked_by(case, node, z, tuple(int(d) for d in T.shape_of(node)), arriving):
            return Hint("relu's mask taken from the gradient",
                        f"the claim masks relu({_text(z, 40)})'s gradient with (dA > 0), dA the gradient "
                        f"arriving at relu's output, where relu′ is read off its input: dZ = dA * (Z > 0), "
                        f"Z = {_text(z, 40)} (cached by the forward).")
    return None


def tanh_operand_hint(case: Case):
    """tanh′ made from another input: an RNN step's dtanh = dnext_h * (1 - prev_h**2) for
    1 - next_h**2. tanh(z) is replaced by C + z ⊙ K with K = 1 − a² (a an input of z's shape), both
    held at the point, and the claim compared with that gradient."""
    from ..frontend import tensor as T
    Cs, Ts = _fitted(case)
    if all_same(Cs, Ts):
        return None
    from .activation_hints import activations
    tanhs = list(dict.fromkeys(n for n in sp.preorder_traversal(case.f) if isinstance(n, sp.tanh)))
    if not 1 <= len(tanhs) <= 2:
        return None
    acts = activations(case.f)
    for node in tanhs:
        z = node.args[0]
        shape = tuple(T.shape_of(z))
        # an LSTM's tanh(next_c): its argument made from other activations, a tanh of the state
        of_state = any(m is not node and z.has(m) for m in acts)
        for a in sorted(case.f.atoms(T.Tensor), key=lambda a: a.name):
            if a.name.startswith("dout") or a.is_integer_tensor or tuple(a.shape) != shape:
                continue
            for squash in ((False, True) if of_state else (False,)):
                K, C = T.tensor("_K", shape), T.tensor("_C", shape)

                def extra(vals, a=a, K=K, C=C, z=z, squash=squash):
                    zv = value_at(z, vals)
                    av = np.asarray(vals[a.name], float)
                    kv = 1 - (np.tanh(av) if squash else av) ** 2
                    return {K.name: kv, C.name: np.tanh(zv) - zv * kv}
                from .layer_hints import _rebuilt
                if not _claim_is_gradient_of(case, _rebuilt(case.f, {node: C + z * K}), extra):
                    continue
                if squash:
                    return Hint(f"tanh'(z) written with {a.name}",
                                f"the claim uses 1 − tanh({a.name})² where "
                                f"1 − tanh(next_c)² belongs — tanh of the new cell state the forward computed "
                                f"(an LSTM's dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c)**2)), not of "
                                f"the previous one.")
                return Hint(f"tanh'(z) written with {a.name}",
                            f"the claim uses 1 − {a.name}² where 1 − h² belongs, "
                            f"h = tanh(z) the layer's own output (an RNN step's next_h); dz = dout * (1 - h**2) "
                            f"with the h the forward computed.")
    return None


def _relu_arg(o):
    """z where the layer's output o is relu(z) (or max(0, z)); None otherwise."""
    from ..frontend import tensor as T
    from ..frontend.functions import relu
    e = o.args[0] if isinstance(o, T.Ewise) else o
    if isinstance(e, relu):
        return e.args[0]
    if isinstance(e, sp.Max) and len(e.args) == 2 and sp.S.Zero in e.args:
        return next(a for a in e.args if a != 0)
    return None


def relu_output_hint(case: Case):
    """relu's backward returning its forward's value: `dx = x * (x > 0)` (or `np.maximum(0, x)`) for
    `dout * (x > 0)`. Where the layer's output is relu(z), that claim is the gradient with dout taken
    as the layer's output relu(z) (relu(z) ⊙ (z > 0) = relu(z)): evaluate the true gradient with dout's
    value replaced by the output's, and compare."""
    from ..frontend import tensor as T
    D = case.derivation
    g = D.gradient_vars[case.k]
    Cs, Ts = _fitted(case)
    if g is None or not differs(Cs, Ts):
        return None
    dout = _the_dout(case)
    if dout is None:
        return None
    for o in _outputs(case):
        z = _relu_arg(o)
        if z is None or tuple(T.shape_of(o)) != tuple(dout.shape):
            continue

        def extra(vals, o=o):
            return {dout.name: np.broadcast_to(value_at(o, vals),
                                               np.shape(vals[dout.name]))}
        vals = case.eval_vars(D.ir, [g], extra)
        if all_same(Cs, [np.broadcast_to(v[0], t.shape) for v, t in zip(vals, Ts)]):
            zs = z.name if isinstance(z, T.Tensor) else "z"
            said = "" if isinstance(z, T.Tensor) else f" (z = {_text(z)})"
            return Hint("the layer's output where its gradient belongs",
                        f"the backward uses relu({zs}) = "
                        f"{zs} * ({zs} > 0), the forward's value, where dout * ({zs} > 0) belongs; multiply "
                        f"dout by relu's mask: d{zs} = dout * ({zs} > 0){said}.")
    return None


def _the_dout(case):
    """The one upstream gradient ``dout`` of a layer checked by check_backward (the tensor whose
    name starts with dout), or None where there is none or several."""
    from ..frontend import tensor as T
    douts = [a for a in case.f.atoms(T.Tensor) if a.name.startswith("dout")]
    return douts[0] if len(douts) == 1 else None


def square_factor_everywhere_hint(case: Case):
    """rnn_backward's ``dprev = dtanh @ Wh`` for ``dtanh @ Wh.T`` at every step: Wh is square, so
    nothing fails, and the slip reaches dx, dh0 and the other weights through the steps before.
    Each product u @ P of a square parameter P is replaced by C + u @ K, K holding P.T's value and
    C = u @ P − u @ K (constants at the point), so the gradient reaching u is g @ P — the slip — with
    every value kept; compared for the other variables (P's own gradient changes too)."""
    from ..frontend import tensor as T
    from .layer_hints import _rebuilt
    Cs, Ts = _fitted(case)
    if not differs(Cs, Ts):
        return None
    squares = [p for p in case.params if isinstance(p, T.Tensor) and len(p.shape) == 2
               and p.shape[0] == p.shape[1] and p != case.w]
    for P in squares:
        prods = right_products(case.f, P)
        if len(prods) < 2:                      # one product: operand_hint's transposed factor
            continue
        from .recurrent_hints import right_operand
        R, r_of, _ = right_operand(prods)       # P (cs231n's h @ Wh) or P.T (torch's h @ W_hh.T)
        K = T.tensor("_K", tuple(P.shape))
        Cn = [T.tensor(f"_C{i}", tuple(T.shape_of(n))) for i, n in enumerate(prods)]

        def extra(vals, prods=prods, Cn=Cn, K=K, r_of=r_of):
            r = r_of(vals)
            out = {K.name: r.T}
            for n, c in zip(prods, Cn):
                u = value_at(n.args[0], vals)
                out[c.name] = u @ r - u @ r.T
            return out
        slipped = _rebuilt(case.f, _Nested({n: c for n, c in zip(prods, Cn)}, K))
        if _claim_is_gradient_of(case, slipped, extra):
            used, right = (f"{P.name}", f"{P.name}.T") if R == P else (f"{P.name}.T", f"{P.name}")
            return Hint("transposed factor at every step",
                        f"the gradient reaching the input of each "
                        f"… @ {R} is multiplied by {used} where {right} belongs — h @ {R} in "
                        f"the forward gives dh = d @ {right} (rnn_backward's dprev_h = dtanh @ "
                        f"{right}); {P.name} is square, so the shapes cannot tell, and the slip reaches "
                        f"{case.w.name} through the steps before.")
    return None


class _Nested(dict):
    """{product u @ P: C}, read as C + u' @ K with u' = u rebuilt with the same substitution: the
    products of later steps hold the earlier ones inside u, and `layer_hints._rebuilt` returns a
    substituted node as it is given, without looking inside."""

    def __init__(self, consts, K):
        super().__init__(consts)
        self.K = K

    def __getitem__(self, n):
        from .layer_hints import _rebuilt
        return dict.__getitem__(self, n) + _rebuilt(n.args[0], self) @ self.K
