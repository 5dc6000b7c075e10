"""The tensor part of the text grammar: a tensor's whitelisted methods (``x.sum(axis=0)``,
``x.reshape(N, -1)``), the tensor functions the tensor modules register (``softmax(s, axis=1)``,
``conv2d(x, w, stride=2)``), constant tensors (``ones((N, 2))``) and clip's bounds; every argument a
constant read from the syntax tree (`TensorCalls.static`), never evaluated.
"""
from __future__ import annotations

import ast

import sympy as sp

from ..errors import SymgradError
from .parse_grammar import (_BOUND_OF, _CALL_BOUNDS, _CONSTANTS, _CONSTRUCTORS, _functions,
                            _is_scalar_of_symbols, _is_tensor, MAX_AXES, MAX_DIM, MAX_ENTRIES, MAX_LABEL,
                            MAX_WINDOW, MAX_WINDOW_AXES, _METHODS, _OTHER_NAMES, STRING_CHOICES,
                            _TENSOR_CALLS)


class TensorCalls:
    """The tensor calls of `symgrad.frontend.parse._Builder` (which gives ``visit``, ``seg``,
    ``refuse`` and ``fail``)."""

    def method_call(self, node):
        """x.sum(axis=0), x.reshape(N, -1), x.T.dot(w): a whitelisted method of a tensor, its
        arguments read as constants (never evaluated); no attribute of a Python object is read."""
        name = node.func.attr
        (lo, hi), kind, keywords = _METHODS[name]
        args, kw = self.arguments(node, name, keywords)
        if not lo <= len(args) <= hi:
            count = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f".{name}(...) takes {count} positional argument(s), got {len(args)} in "
                            f"{self.seg(node)!r}")
        # the arguments first, the receiver last: whatever a text holds is refused before it is used
        if kind == "tensor":
            vals = [self.visit(a) for a in args]
            bad = next((a for a, v in zip(args, vals) if not _is_tensor(v)), None)
            if bad is not None:
                raise self.fail(f".{name}(...) in {self.seg(node)!r} takes a tensor; {self.seg(bad)!r} "
                                f"is not one")
        elif name in ("reshape", "transpose"):    # x.reshape(N, -1) or x.reshape((N, -1))
            if len(args) == 1 and isinstance(args[0], ast.Tuple):
                vals = list(self.static(args[0], kind))
            else:
                vals = [self.static(a, kind + "_entry") for a in args]
        else:                                      # x.sum(0), x.sum((0, 1)): the axis; clip's bounds
            vals = [self.static(a, kind) for a in args]
        x = self.visit(node.func.value)
        if not _is_tensor(x):
            raise self.fail(f".{name}(...) in {self.seg(node)!r} is a method of tensors (sg.tensor); "
                            f"{self.seg(node.func.value)!r} is not one")
        if name == "dot":
            return x @ vals[0]
        if name in ("clip", "clamp"):
            return x.clip(*self.bounds(node, vals, kw))
        if name in ("reshape", "transpose"):
            return getattr(x, name)(*vals)
        if vals:                               # x.sum(0): the axis, as NumPy's
            if "axis" in kw:
                raise self.fail(f"the axis is given twice in {self.seg(node)!r}")
            kw["axis"] = vals[0]
        return getattr(x, name)(**kw)

    def arguments(self, node, name, keywords, form=None) -> tuple:
        """(the positional argument nodes, {keyword: its constant value}) of a call; '*' and '**'
        unpacking and keywords ``name`` does not take are refused (``form``, when given, is the
        spelling the refusal shows). A keyword whose kind is None keeps its syntax-tree node."""
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.visit(a)                  # refused, naming it
        kw = {}
        for k in node.keywords:
            if k.arg is None or k.arg not in keywords:
                what = "'**' unpacking" if k.arg is None else f"the keyword {k.arg!r}"
                allowed = ", ".join(sorted(keywords)) or "none"
                write = f"; write {form}" if form else ""
                raise self.refuse(f"{what} in {self.seg(node)!r} is not allowed ({name} takes the "
                                  f"keywords: {allowed}{write})")
            if k.arg in kw:
                raise self.fail(f"the keyword {k.arg}= is given twice in {self.seg(node)!r}")
            kind = keywords[k.arg]
            kw[k.arg] = (k.value if kind is None else self.visit(k.value) if kind == "operand"
                         else self.static(k.value, kind, k.arg))
        return list(node.args), kw

    def static(self, node, kind, keyword=None):
        """A constant argument: "axis" an integer (negative counts from the end), a tuple of them or
        None; "bool" True or False; "dims" a tuple of "dims_entry"s, each an integer or an integer
        size of the declaration (N, N*3). Read from the syntax tree, never evaluated."""
        named = f"{keyword}= takes" if keyword else "the argument is"
        if kind in ("axis", "dims"):
            if isinstance(node, ast.Tuple):
                if len(node.elts) > MAX_AXES:
                    raise self.refuse(f"{self.seg(node)!r}: at most {MAX_AXES} entries")
                return tuple(self.static(e, kind + "_entry", keyword) for e in node.elts)
            if kind == "axis" and isinstance(node, ast.Constant) and node.value is None:
                return None
            return self.static(node, kind + "_entry", keyword)
        if kind in ("bool", "optional_bool"):
            if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or
                                                   kind == "optional_bool" and node.value is None):
                return node.value
            also = ", False or None" if kind == "optional_bool" else " or False"
            raise self.refuse(f"{named} True{also}, not {self.seg(node)!r}")
        if kind == "scale":     # interpolate's scale_factor=2, scale_factor=(2, 1.5)
            if isinstance(node, ast.Tuple):
                if not 1 <= len(node.elts) <= MAX_WINDOW_AXES:
                    raise self.refuse(f"{named} a number constant or a tuple of 1 to {MAX_WINDOW_AXES} of "
                                      f"them, not {self.seg(node)!r}")
                return tuple(self.static(e, "number", keyword) for e in node.elts)
            return self.static(node, "number", keyword)
        if kind in ("number", "bound"):
            if kind == "bound" and isinstance(node, ast.Constant) and node.value is None:
                return None
            words = ("a bound is a number constant or None (clip(x, -1, 1), clip(x, 0, None)), a "
                     "scalar's name (clip(x, -c, c)) or a tensor (clip(x, lo, hi))" if kind == "bound"
                     else f"{keyword or 'the argument'}= takes a number constant")
            # numbers, pi and E (a bound also a scalar's name), with + - * /: read from the tree (no
            # attribute, no call, no string)
            if not all(isinstance(n, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Name, ast.operator,
                                      ast.unaryop, ast.expr_context)) for n in ast.walk(node)) or any(
                    isinstance(n, ast.Constant) and type(n.value) not in (int, float)
                    or isinstance(n, ast.Name) and n.id not in _CONSTANTS and kind != "bound"
                    or isinstance(n, ast.BinOp) and type(n.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div)
                    or isinstance(n, ast.UnaryOp) and type(n.op) not in (ast.USub, ast.UAdd)
                    for n in ast.walk(node)):
                if kind == "bound":                  # a tensor bound (np.clip's, torch.clamp's):
                    v = self.tensor_bound(node)      # an expression of the grammar itself
                    if v is not None:
                        return v
                raise self.refuse(f"{words}, not {self.seg(node)!r}{_infinity_norm_hint(node, keyword)}")
            v = self.visit(node)
            if kind == "bound" and (_is_scalar_of_symbols(v) or _is_tensor(v)):
                return v
            if not (isinstance(v, sp.Expr) and v.is_number and v.is_extended_real and v.is_finite):
                raise self.fail(f"{words}, not {self.seg(node)!r}{_infinity_norm_hint(node, keyword)}")
            return v
        if kind in STRING_CHOICES and isinstance(node, ast.Constant) and isinstance(node.value, str):
            # reduction="sum", padding="same": compared with the few literals allowed, never evaluated
            if node.value in STRING_CHOICES[kind]:
                return node.value
            allowed = ", ".join(repr(c) for c in STRING_CHOICES[kind])
            raise self.refuse(f"{keyword or kind}= takes one of {allowed}, not {self.seg(node)!r}")
        if kind in ("reduction", "mode"):
            allowed = ", ".join(repr(c) for c in STRING_CHOICES[kind])
            raise self.refuse(f"{keyword or kind}= takes one of the strings {allowed}, not {self.seg(node)!r}")
        if kind == "label":     # ignore_index=-100: an integer constant, negative too
            v = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
            if isinstance(v, ast.Constant) and type(v.value) is int and v.value <= MAX_LABEL:
                return -v.value if v is not node else v.value
            raise self.refuse(f"{keyword or 'the argument'}= takes an integer constant (a class label, "
                              f"ignore_index=-100), not {self.seg(node)!r}")
        if kind == "optional_window":
            if isinstance(node, ast.Constant) and node.value is None:
                return None
            kind = "window"
        if kind in ("window", "padding", "size"):  # conv2d's stride= / padding=, a pool's kernel,
            # interpolate's size=: an integer or a tuple of them
            named = (f"{keyword}= takes" if keyword else "the size takes" if kind == "size"
                     else "the kernel size takes")
            parts = node.elts if isinstance(node, ast.Tuple) else [node]
            if isinstance(node, ast.Tuple) and not 1 <= len(parts) <= MAX_WINDOW_AXES:
                raise self.refuse(f"{named} an integer constant or a tuple of 1 to {MAX_WINDOW_AXES} of them, "
                                  f"not {self.seg(node)!r}")
            vals = []
            for e in parts:
                neg = isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub)
                c = e.operand if neg else e
                if not (isinstance(c, ast.Constant) and type(c.value) is int):
                    also = (" or one of " + ", ".join(repr(c) for c in STRING_CHOICES[kind])
                            if kind in STRING_CHOICES else "")
                    example = "size=8, size=(8, 6)" if kind == "size" else "stride=2, padding=(1, 0)"
                    raise self.refuse(f"{named} integer constants ({example}){also}, "
                                      f"not {self.seg(node)!r}")
                if kind == "size" and (neg or not 1 <= c.value <= MAX_WINDOW):
                    raise self.refuse(f"{named} integers 1 ... {MAX_WINDOW} (an output size), not "
                                      f"{self.seg(e)!r}")
                if neg or not 0 <= c.value <= MAX_WINDOW:
                    raise self.refuse(f"{named} integers 0 ... {MAX_WINDOW} (a window, a stride, a padding), "
                                      f"not {self.seg(e)!r}")
                vals.append(c.value)
            return tuple(vals) if isinstance(node, ast.Tuple) else vals[0]
        if kind in ("diagonal", "axis_entry"):  # tril(x, k)'s k, an axis: a small integer constant
            v = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node
            if isinstance(v, ast.Constant) and type(v.value) is int and abs(v.value) <= MAX_DIM:
                return -v.value if v is not node else v.value
            what = ("the diagonal is an integer constant (0 the main one, 1 above, -1 below)"
                    if kind == "diagonal" else
                    "an axis is an integer constant, or a tuple of them (axis=0, axis=(1, 2))")
            raise self.refuse(f"{what}, not {self.seg(node)!r}")
        if kind == "dims_entry":
            shape_words = "a shape is integers and the declaration's integer sizes (N, -1, N*3)"
            if not all(isinstance(n, (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.operator,
                                      ast.unaryop, ast.expr_context)) for n in ast.walk(node)):
                raise self.refuse(f"{shape_words}, not {self.seg(node)!r}")
            v = self.visit(node)
            unit = v.subs({s: 1 for s in v.free_symbols}) if isinstance(v, sp.Expr) else v
            if isinstance(unit, sp.Integer) and abs(int(unit)) > MAX_DIM * MAX_DIM:   # N*10**9 too
                raise self.refuse(f"the size {self.seg(node)!r} is too large (a size is at most "
                                  f"{MAX_DIM * MAX_DIM})")
            if isinstance(v, sp.Expr) and v.is_integer and not _is_tensor(v):
                return v
            raise self.fail(f"{shape_words}, not {self.seg(node)!r}")
        raise AssertionError(kind)

    def tensor_bound(self, node):
        """A clip bound that is a tensor expression of the grammar (``clip(X, L, U)``, ``X.clamp(min=
        b - 1)``), parsed as any operand is (never evaluated), or None when it is no tensor or is not
        in the grammar (the caller then refuses it as a bound)."""
        try:
            v = self.visit(node)
        except SymgradError:
            return None
        return v if _is_tensor(v) else None

    def bounds(self, node, positional, kw) -> list:
        """[lo, hi] of clip / clamp from its positional bounds and its keywords (min=, max=; np.clip's
        a_min=, a_max=), None where not given; a bound given twice is refused."""
        out = list(positional) + [None] * (2 - len(positional))
        for k, v in kw.items():
            i = _BOUND_OF[k]
            if i < len(positional) or (v is not None and out[i] is not None):
                raise self.fail(f"the {'lower' if i == 0 else 'upper'} bound is given twice in "
                                f"{self.seg(node)!r}")
            out[i] = v
        return out

    def constructor_call(self, node, n):
        """ones((N, 2)), zeros(3), torch's ones(N, 2), full((N, 2), 0.5), full((N, 2), c): the shape
        and the value read from the syntax tree as constants (never evaluated), then built."""
        build, takes_value = _CONSTRUCTORS[n]
        form = f"{n}((N, 2), 0.5)" if takes_value else f"{n}((N, 2)), {n}(3) or {n}(N, 2)"
        keywords = ("shape", "fill_value") if takes_value else ("shape",)
        args, kw = self.arguments(node, n, dict.fromkeys(keywords), form)   # the nodes, read below
        if "shape" in kw:
            if args and not (takes_value and len(args) == 1 and "fill_value" not in kw):
                raise self.fail(f"the shape of {n}(...) is given twice in {self.seg(node)!r} (by "
                                f"position and by shape=); write {form}")
            args.insert(0, kw.pop("shape"))
        if "fill_value" in kw:
            if len(args) > 1:
                raise self.fail(f"the value of {n}(...) is given twice in {self.seg(node)!r} (by "
                                f"position and by fill_value=); write {form}")
            args.append(kw.pop("fill_value"))
        if takes_value:
            if len(args) != 2:
                raise self.fail(f"{n}(...) takes a shape and a value, as in {form}; got {len(args)} "
                                f"argument(s) in {self.seg(node)!r}")
            args, value = args[:1], args[1]
        if not args:
            raise self.fail(f"{n}(...) takes a shape, as in {form}; none is given in {self.seg(node)!r}")
        if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
            args = args[0].elts                # ones((N, 2)), ones([N, 2])
        if not 1 <= len(args) <= MAX_AXES:
            raise self.refuse(f"{self.seg(node)!r}: a shape has 1 to {MAX_AXES} sizes")
        dims = []
        for a in args:
            d = self.static(a, "dims_entry")
            if not d.is_positive:
                raise self.fail(f"the size {self.seg(a)!r} of {n}(...) in {self.seg(node)!r} must be "
                                f"positive: a shape is positive integers and the declaration's integer "
                                f"sizes (N, N*3), as in {form}")
            dims.append(d)
        # the entries counted with every symbolic size at 1 ("per unit": ones((N, 1000)) is 1000),
        # and at most quadratic in the sizes (ones((N, T, 3)) is; ones((N**10,)) or
        # ones((N*10**8, 1000)) would allocate gigabytes at the sizes a check draws)
        count = sp.expand(sp.Mul(*dims))
        unit = count.subs({s: 1 for s in count.free_symbols})
        if count.free_symbols and (not count.is_polynomial(*count.free_symbols)
                                   or sp.Poly(count, *count.free_symbols).total_degree() > 2):
            raise self.refuse(f"{self.seg(node)!r} has {count} entries; a constant made by the text "
                              f"has at most two symbolic sizes' product of them (ones((N, T, 3)))")
        if unit > MAX_ENTRIES:
            raise self.refuse(f"{self.seg(node)!r} has {unit} entries (for each unit of its symbolic "
                              f"sizes); a constant made by the text has at most {MAX_ENTRIES}")
        if not takes_value:
            return build(tuple(dims))
        return build(tuple(dims), self.fill_value(value, n))

    def fill_value(self, node, n):
        """full's value: a number constant (0.5, -1/3, pi) or a scalar's name with + - * / and
        numbers (c, -c, 2*c), read from the tree like a clip bound; no tensor, no call."""
        if all(isinstance(m, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.Name, ast.operator, ast.unaryop,
                              ast.expr_context)) for m in ast.walk(node)) and not any(
                isinstance(m, ast.BinOp) and type(m.op) not in (ast.Add, ast.Sub, ast.Mult, ast.Div)
                or isinstance(m, ast.UnaryOp) and type(m.op) not in (ast.USub, ast.UAdd)
                for m in ast.walk(node)):
            v = self.visit(node)
            if (isinstance(v, sp.Expr) and v.is_number and v.is_extended_real and v.is_finite
                    or _is_scalar_of_symbols(v)):
                return v
        raise self.refuse(f"the value of {n}(...) is a number constant or a scalar's name (full((N, 2), "
                          f"0.5), full((N, 2), c)), not {self.seg(node)!r}")

    def clip_call(self, node, n):
        """clip(x, lo, hi), clip(x, min=0), np.clip's clip(x, a_min=, a_max=), torch's clamp(x, min,
        max): the bounds read as constants of the tree (numbers, scalar names, None) before x."""
        args, kw = self.arguments(node, n, _CALL_BOUNDS[n])
        if not 1 <= len(args) <= 3:
            raise self.fail(f"{n}(...) takes x and at most two bounds, got {len(args)} positional "
                            f"argument(s) in {self.seg(node)!r}")
        lo_hi = self.bounds(node, [self.static(a, "bound") for a in args[1:]], kw)
        x = self.visit(args[0])
        if not _is_tensor(x):
            raise self.fail(f"{n}(...) in {self.seg(node)!r} is for tensors (sg.tensor); "
                            f"{self.seg(args[0])!r} is not one")
        return _TENSOR_CALLS["clip"].build(x, *lo_hi)

    def where_call(self, node):
        """where(c, a, b), NumPy's (np.where's, torch.where's): a where the comparison of tensors c
        holds (X > 0), else b, broadcast together; c may be a tensor, nonzero entries true. Built
        with `sg.where` from what the grammar reads; nothing is evaluated."""
        args, _ = self.arguments(node, "where", {})
        if len(args) != 3:
            raise self.fail(f"where(...) takes three arguments, where(condition, a, b), got {len(args)} "
                            f"in {self.seg(node)!r}")
        c, a, b = (self.visit(v) for v in args)
        sides = c.args if isinstance(c, sp.core.relational.Relational) else (c,)
        if not any(_is_tensor(v) for v in sides):
            raise self.fail(f"where(...) in {self.seg(node)!r} is for tensors (sg.tensor): its condition "
                            f"{self.seg(args[0])!r} compares none (of scalars write "
                            f"Piecewise((a, condition), (b, True)))")
        return _TENSOR_CALLS["where"].build(c, a, b)

    def tensor_call(self, node, n):
        """sum(x, axis=0), softmax(s, axis=1), cross_entropy(s, y): a function whose first argument
        is a tensor, with NumPy's keywords; None when the first argument is not a tensor."""
        fn = _TENSOR_CALLS[n]
        (lo, hi), keywords = fn.nargs, fn.keywords
        if not node.args or isinstance(node.args[0], ast.Starred):
            return None
        first = self.visit(node.args[0])
        if fn.any_operand and not _is_tensor(first):      # maximum(0, x): the tensor second
            self.arguments(node, n, keywords)              # '*' unpacking refused first
            others = [a for a, kind in zip(node.args[1:], fn.rest) if kind == "operand"]
            if not any(_is_tensor(self.visit(a)) for a in others):
                scalar = " or ".join(_OTHER_NAMES.get(n, []))
                raise self.fail(f"{n}(...) in {self.seg(node)!r} is for tensors (sg.tensor); none of "
                                f"its arguments is one" + (f" (of scalars write {scalar}(a, b))"
                                                           if scalar else ""))
        elif not _is_tensor(first):
            if any(k.arg in keywords for k in node.keywords) or n not in _functions():
                args, _ = self.arguments(node, n, keywords)  # a keyword's value is refused first,
                for a, kind in zip(args[1:], fn.rest):       # and a bound's (clip(w, __import__...))
                    if kind in ("number", "bound"):
                        self.static(a, kind)
                raise self.fail(f"{n}(...) in {self.seg(node)!r}"
                                + (" with " + ", ".join(f"{k.arg}=" for k in node.keywords if k.arg in keywords)
                                   if node.keywords else "")
                                + f" is for tensors (sg.tensor); {self.seg(node.args[0])!r} is not one")
            return None
        args, kw = self.arguments(node, n, keywords)
        if not lo <= len(args) <= hi:
            count = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f"{n}(...) of a tensor takes {count} argument(s), got {len(args)} in "
                            f"{self.seg(node)!r}")
        names = _positional_names(fn.build)[1:]     # norm(x, inf): "p= takes ...", not "the argument="
        rest = [self.visit(a) if kind == "operand"
                else self.static(a, kind, name if kind == "number" else None)
                for a, kind, name in zip(args[1:], fn.rest, names + [None] * len(args))]
        # cross_entropy's target; one_hot's n; an axis
        return fn.build(first, *rest, **kw)


def _positional_names(build) -> list:
    """The names of ``build``'s positional parameters (norm's x, p, axis, keepdims), or [] when it
    has no signature to read."""
    import inspect
    try:
        params = inspect.signature(build).parameters.values()
    except (TypeError, ValueError):
        return []
    return [q.name for q in params if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)]


_INFINITIES = {"inf", "oo", "infinity", "Infinity"}


def _infinity_norm_hint(node, keyword) -> str:
    """norm's p= given ∞ (inf, np.inf, math.inf, float('inf')): the spelling the grammar takes."""
    spelled = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)} | {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    if keyword != "p" or not spelled & _INFINITIES:
        return ""
    return " (the ∞-norm, the largest |xᵢ|, is written max(abs(x)); max(abs(x), axis=1) along an axis)"
