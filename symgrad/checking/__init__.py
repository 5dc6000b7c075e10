"""Checking hand-derived gradients: `check` and `gradcheck`.

- `verdict`: `check` and `CheckResult` — the verdict, the counterexample, the method;
- `claims`: claimed gradients normalised, evaluated and compared;
- `sampling`: the sample points (inside f's domain, away from kinks, distribution targets);
- `conditioned_draw`: a matrix that is inverted or under det drawn well conditioned;
- `sides`: points added so that every kink is tested on both sides;
- `hints`: the name of the slip (a transpose, a sign, a factor, a missing path ...);
- `programcheck`: `gradcheck`, a compiled program's gradients against finite differences.
- `held_loss`: the loss `gradcheck` differences for a program holding a stop_gradient (held at the point).

May import: `symgrad.errors`, `symgrad.frontend`, `symgrad.core`, `symgrad.teaching`.
"""
