"""Name the slip behind a wrong gradient.

Each recogniser takes the claim C and symgrad's gradient T (NumPy values at the same random points)
and asks whether C is T transformed by one usual slip; the first that fits (to 1e-6, at every point)
gives the hint. In order:

    shape       C cannot have ∂f/∂w's shape: Cᵀ = T (transpose), C's per-example rows average or sum
                to T (missing sum over the batch), C summed over an axis is T; else both shapes
    sign        C = −T
    transpose   C = Tᵀ for a square w (T not symmetric)
    factor      C = k·T for a constant k: 2, ½, the batch size B, a dimension N or 1/N, 1 − p or
                1/(1 − p) for a dropout's p (its mask's scale left out or counted twice), N/(N − 1)
                for a variance over N entries (divided by N − 1 where f divides by N), ...
    dout        C is T with the upstream gradient dout taken as 1 (check_backward's dout left out)
    fan-out     C = T − (one path's term): a path of the influence diagram left out (named), or one
                counted twice (C = T + term). The terms come from the reverse-mode record: every
                value that fans out received one contribution per consumer (`Derivation.raw_steps`),
                and each contribution, pushed back to w, is one path's share of ∂f/∂w; C = T − 2·term
                is that term with its sign flipped (softmax loss's dx[:, y] += 1 for -= 1)
    variance    C is the gradient of f with each variance's correction flipped (ddof 1 for 0, or 0 for 1)
    σ'          C is what the chain rule gives with σ'(z) left out or written as σ(z), 1 − σ(z),
                z(1 − z), σ(z)², σ(z)(1 + σ(z)); softplus′(z) = σ(z) as σ(−z), softplus(z), σ′(z), eᶻ
    relu'       C is what it gives with relu'(z) = 1: the gradient passed through relu unmasked
    relu out    C is the gradient with dout taken as relu's output (x * (x > 0) returned for dx)
    norm dx     a norm layer's dx divided by var + eps for its std, or without dxhat's N
                (norm_dx_hints.py; tried before fan-out, which would name the second as a path's 1/N)
    softmax     C is what it gives with the softmax Jacobian cut to its diagonal, s ⊙ (1 − s)
    targets     C is right once the target of a softmax cross-entropy is a distribution (sums to 1),
                when the check drew it freely (targets="free"), or once it is one-hot
    first step  otherwise: the first step of the derivation (from the output down) whose value no
                subexpression of the claim reproduces, when the claim reproduces an earlier one

These live in modules named for them: shape_hints.py (shape), sign_transpose_hints.py (sign,
transpose), factor_hints.py (factor; size_words.py says a size as the user declared it),
tensor_backward_hints.py (dout, and a hand-written backward's one example, assignment, upstream,
statistics and variance slips), fanout_hint.py (fan-out), derivative_rule_hints.py (σ', tanh', relu',
softmax), target_hint.py (targets), first_step_hint.py (first step).

Layer slips have their own modules (each says what it decides and how): layer_hints.py,
norm_dx_hints.py (also a wrong count in dx), eps_path_hint.py (ε left out on some paths),
channel_hints.py (spatial batch norm's x.reshape(-1, C)), dout_sum_hints.py (dout summed over the
wrong axes then indexed; one time step only), shared_param_hints.py (some uses of a shared
parameter), recurrent_hints.py (an RNN's dWh from the state one step late, a loop that stops before
t = 0), activation_hints.py (one σ′ or tanh′ of several written wrong), gate_order_hint.py (an
LSTM's gates' gradients in another order), gate_placement_hint.py (a GRU's r on the wrong side of its
product, in 11-785's columns or torch's and d2l's rows),
likelihood_hints.py (a −log P's backward without 1/y, or with P's gradient: CTC's γ not divided by P,
or β not divided by y), ctc_hints.py (a CTC backward's skip connections: between repeated symbols, or
none),
eval_stats_hint.py (a batch norm's inference backward written with the training formula), pool_route_hint.py
(max pool's δ to another window entry, or written back without the stride), operand_hints.py, conv_hints.py, margin_hints.py,
softmax_axis_hint.py, ce_softmax_slips.py (s(1 − s) − Y, A − Y or log s − Y
for s − Y), stop_gradient_hint.py (a claim through a stop_gradient), upsample_hints.py (an
upsampling's backward reading the wrong entries), resample_hints.py (11-785's Downsample1d/2d and Upsample1d/2d
as layers: dLdZ written at the wrong width, offset or step, or repeated), nearest_upsample_hint.py (a nearest upsampling's
backward reading one entry of each block), stride_missing_hint.py (a strided convolution's
backward without the stride, too narrow), norm_line_slips.py (a norm layer's dx with x for x̂, the
backward's var(ddof=1), a staged dmu over another axis, 1/(N − 1) on the variance's path),
product_operand_hint.py (an elementwise product's dx = dout * x for dout * w), bce_target_hint.py
(a binary cross-entropy's target flipped), norm_constant_hint.py (a norm held constant),
gram_sides_hint.py (one side of z @ z.T), masked_branch_hint.py (a masked softmax's mask left out of
its backward), permute_reshape_hint.py (a transpose's gradient read back with a reshape alone),
cotangent_transpose_hint.py (a square product's gradient passed on transposed), tie_dropped_hint.py
(at a Max tie, δ sent to no tied argument), direct_path_hint.py (a GRU's dh without d * z, its direct
path; an LSTM's dprev_c without dnext_c * f). A formula's slips (sg.check of a hand-derived gradient):
cancelled_derivative_hint.py (σ′, or softmax's p ⊙ (1 − p), multiplied in where it cancels),
symmetric_hint.py (a Matrix Cookbook identity right only for a symmetric matrix), transposes_dropped_hint.py
(one right once some of its matrices are transposed: AB for AᵀBᵀ), product_order_hint.py (a
matrix product's factors in another order, or one of f's matrices left out of it), det_factor_hints.py
(one off by the factor det X: ∂ det X/∂X without it, ∂ log det X/∂X with it), inner_factor_swap_hint.py
(another variable's inner derivative), zeroed_symbol_hint.py (every term of an input left out: Xᵀσ for
Xᵀ(σ − y)), calculus_rule_hints.py (the power rule on a variable exponent or an
exponential, the product rule as a product), outer_derivative_hint.py (F′(u) of a node F(u) of f left out), dropout_mask_hint.py
(a dropout backward with a mask of its own), symbol_swap_hint.py (a symbol of f where another belongs),
relu_mask_term_hint.py (relu's mask without the bias), branch_slope_hint.py (a claim wrong on one side of
a kink only — a branch's slope — or with a kink's sides swapped; tried before fan-out, which read it as a path's term),
piecewise_branch_hint.py (one branch of a Piecewise differentiated and used everywhere: Huber's r), product_claim_hints.py (a Hessian- or Jacobian-vector product's
Jv for Jᵀv, Av for (A + Aᵀ)v, v left out). `find_hint` below gives the order they are tried in.

>>> import numpy as np
>>> same(np.array([[1., 2.]]), -np.array([[1., 2.]]), -1)
True
"""
from __future__ import annotations

from dataclasses import replace

# The recognisers live in modules named for what they name; hints.py orders them (find_hint) and
# re-exports them, so `from symgrad.checking.hints import X` keeps working.
from .hint_case import Case, _claim_is_gradient_of, _fitted, _variances, all_same, same  # noqa: F401
from .fanout_paths import _label, _path, _users, fanout_terms, first_steps_square  # noqa: F401 - their own module, below hints
from .sign_transpose_hints import sign_hint, transpose_hint
from .shape_hints import shape_hint
from .factor_hints import factor_hint
from .fanout_hint import fanout_hint
from .tensor_backward_hints import (assignment_hint, dout_hint, one_example_hint, one_example_in_product_hint,
                                    statistics_hint, upstream_hint, variance_hint)
from .derivative_rule_hints import relu_hint, sigmoid_hint, softmax_hint, softplus_hint, tanh_hint, tensor_softmax_hint
from .target_hint import target_hint
from .first_step_hint import first_step_hint


def find_hint(case: Case) -> str | None:
    """The first recogniser that fits, as a sentence; None when no usual slip explains the claim."""
    from .conv_hints import conv_hint         # convolution and pooling slips (their own module)
    from .activation_hints import one_activation_hint
    from .channel_hints import channels_reshape_hint
    from .direct_path_hint import direct_path_hint, forget_gate_output_hint
    from .cancelled_derivative_hint import extra_activation_derivative_hint
    from .symmetric_hint import symmetric_hint
    from .product_claim_hints import product_claim_hint
    from .dropout_mask_hint import dropout_mask_hint
    from .relu_mask_term_hint import relu_mask_term_hint
    from .product_order_hint import product_order_hint
    from .transposes_dropped_hint import transposes_dropped_hint
    from .det_factor_hints import det_factor_hint
    from .inner_factor_swap_hint import inner_factor_swap_hint
    from .symbol_swap_hint import symbol_swap_hint
    from .dout_spread_hint import dout_spread_hint
    from .dout_sum_hints import dout_wrong_axes_hint, one_step_hint
    from .gate_order_hint import gate_order_hint
    from .gate_factor_hints import gate_factor_hint
    from .gate_placement_hint import gate_placement_hint
    from .likelihood_hints import beta_times_y_hint, log_factor_hint, probability_factor_hint
    from .eval_stats_hint import eval_stats_hint
    from .gelu_hint import gelu_hint
    from .eps_path_hint import eps_path_hint
    from .norm_power_hint import norm_power_hint
    from .layer_hints import (epsilon_hint, factor_left_out_hint, factor_left_out_on_a_path_hint,
                              norm_axes_hint, other_gradient_hint, permuted_hint)
    from .margin_hints import svm_correct_class_hint, svm_margins_hint
    from .norm_dx_hints import n_left_out_hint, var_for_std_hint, wrong_count_hint
    from .norm_sum_axes_hint import norm_sum_axes_hint
    from .norm_line_slips import dmu_axis_hint, norm_ddof_hint, norm_x_for_xhat_hint, variance_path_hint
    from .output_path_hint import output_path_hint
    from .label_index_hint import label_index_hint
    from .inner_derivative_hint import inner_derivative_hint
    from .calculus_rule_hints import calculus_rule_hint
    from .outer_derivative_hint import outer_derivative_hint
    from .operand_hints import (operand_hint, relu_mask_hint, relu_output_hint, square_factor_everywhere_hint,
                                 tanh_operand_hint)
    from .pool_route_hint import pool_route_hint, stride_left_out_hint
    from .product_operand_hint import product_operand_hint
    from .recurrent_hints import late_state_hint, loop_early_hint
    from .recurrent_loop_hints import first_state_hint, skipped_last_step_hint
    from .shared_param_hints import some_uses_hint
    from .softmax_axis_hint import softmax_axis_hint
    from .upsample_hints import upsample_backward_hint
    from .resample_hints import resample_hint
    from .nearest_upsample_hint import nearest_upsample_hint
    from .ce_softmax_slips import ce_softmax_slip_hint
    from .softmax_jacobian_hints import softmax_jacobian_hint
    from .stop_gradient_hint import stop_gradient_hint
    from .masked_branch_hint import masked_branch_hint
    from .bce_target_hint import bce_target_hint
    from .norm_constant_hint import norm_constant_hint
    from .gram_sides_hint import gram_sides_hint
    from .permute_reshape_hint import permute_reshape_hint
    from .cotangent_transpose_hint import cotangent_transpose_hint
    from .staged_variance import with_variances
    from .tie_dropped_hint import tie_dropped_hint
    from .branch_slope_hint import branch_slope_hint, leaky_slope_hint, swapped_mask_hint
    from .ctc_hints import ctc_graph_hint
    from .zeroed_symbol_hint import zeroed_symbol_hint
    from .piecewise_branch_hint import one_branch_hint
    staged = with_variances(case.f)           # ((x - mu)**2).mean(0) read as x.var(0), as the norm hints need
    if staged is not case.f:
        case = replace(case, f=staged)
    for h in (shape_hint, stop_gradient_hint, sign_hint, transpose_hint, tie_dropped_hint, factor_hint, product_claim_hint, det_factor_hint, product_operand_hint, other_gradient_hint, conv_hint,
              nearest_upsample_hint,      # before one_example_hint, which reads a block's first entry as dout[0]
              dout_hint, factor_left_out_hint, dropout_mask_hint, norm_axes_hint, channels_reshape_hint, one_example_hint,
              dout_wrong_axes_hint, one_step_hint, dout_spread_hint, assignment_hint, one_example_in_product_hint, upstream_hint, label_index_hint, svm_correct_class_hint, svm_margins_hint,
              var_for_std_hint, n_left_out_hint, wrong_count_hint, norm_sum_axes_hint, norm_x_for_xhat_hint, norm_ddof_hint,
              dmu_axis_hint, variance_path_hint, loop_early_hint, skipped_last_step_hint, output_path_hint,
              bce_target_hint, norm_constant_hint, gram_sides_hint, masked_branch_hint, permute_reshape_hint,
              cotangent_transpose_hint, direct_path_hint, forget_gate_output_hint, branch_slope_hint, leaky_slope_hint, swapped_mask_hint, one_branch_hint, fanout_hint,
              some_uses_hint,
              factor_left_out_on_a_path_hint,
              statistics_hint, variance_hint, sigmoid_hint, softplus_hint, tanh_hint, gelu_hint, tanh_operand_hint,
              one_activation_hint, gate_order_hint, relu_hint, relu_mask_hint, relu_mask_term_hint, relu_output_hint, softmax_hint,
              tensor_softmax_hint, softmax_jacobian_hint, softmax_axis_hint, ce_softmax_slip_hint, target_hint, epsilon_hint, eps_path_hint, norm_power_hint,
              pool_route_hint, stride_left_out_hint, upsample_backward_hint, resample_hint, permuted_hint, operand_hint, square_factor_everywhere_hint,
              late_state_hint, first_state_hint, gate_factor_hint, gate_placement_hint, log_factor_hint,
              probability_factor_hint, beta_times_y_hint, ctc_graph_hint, eval_stats_hint,
              extra_activation_derivative_hint, symmetric_hint, product_order_hint, transposes_dropped_hint, calculus_rule_hint, inner_derivative_hint, outer_derivative_hint, inner_factor_swap_hint, symbol_swap_hint,
              zeroed_symbol_hint, first_step_hint):
        msg = try_hint(h, case)
        if msg:
            return _in_user_terms(msg)
    return None


def _in_user_terms(msg):
    """The hint with sg.norm's zero-vector guard said as the norm's square sum (norm_guard_words.py)."""
    from .hint_kind import Hint
    from .norm_guard_words import guard_words
    if "where(" not in msg:
        return msg
    if isinstance(msg, Hint):
        return Hint(msg.kind, guard_words(msg.text))
    return guard_words(msg)


def try_hint(h, case: Case) -> str | None:
    """``h(case)``, or None when the recogniser cannot run: one that cannot run simply does not fit."""
    try:
        return h(case)
    except Exception:   # noqa: BLE001 - a recogniser that cannot run simply does not fit
        return None
