"""Correct implementations of notebook 04's ``reinforce_loss``, written in many different ways.

``reinforce.reinforce_loss`` ends in a learning run (REINFORCE on CartPole-v1 with the
student's loss), which must pass every correct loss, not only the reference. A correct loss
gives the same gradient up to float rounding, and rounding is enough to change a run: the
sampled actions follow the probabilities. :data:`LOSSES` holds more than 30 correct losses
(other reductions, float64, loops, ``torch.dot``, ``einsum``, ...); each passes the check's
other cases (``tests/test_learning_checks.py`` asserts it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def _detached(weights: torch.Tensor) -> torch.Tensor:
    return weights.detach()


#: (name, loss): each returns -mean_t(log_probs_t * weights_t) with the weights as constants
_FORMS: tuple[tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]], ...] = (
    ("mean", lambda lp, w: -(lp * w.detach()).mean()),
    ("negated_first", lambda lp, w: (-lp * w.detach()).mean()),
    ("torch_mean", lambda lp, w: -torch.mean(lp * w.detach())),
    ("sum_over_n", lambda lp, w: -(lp * w.detach()).sum() / len(lp)),
    ("sum_over_numel", lambda lp, w: -(lp * w.detach()).sum() / lp.numel()),
    ("dot", lambda lp, w: -torch.dot(lp, w.detach()) / lp.shape[0]),
    ("matmul", lambda lp, w: -(lp @ w.detach()) / lp.shape[0]),
    ("einsum", lambda lp, w: -torch.einsum("t,t->", lp, w.detach()) / len(lp)),
    ("float64", lambda lp, w: (-(lp.double() * w.detach().double()).mean()).to(lp.dtype)),
    ("float64_kept", lambda lp, w: -(lp.double() * w.detach().double()).mean()),
    ("clone_detach", lambda lp, w: -(lp * w.clone().detach()).mean()),
    ("no_grad_copy", lambda lp, w: -(lp * _no_grad_copy(w)).mean()),
    ("as_tensor", lambda lp, w: -(lp * torch.as_tensor(w.detach(), dtype=lp.dtype)).mean()),
    ("mul", lambda lp, w: torch.mul(lp, w.detach()).mean().neg()),
    ("neg_mean", lambda lp, w: torch.neg(lp * w.detach()).mean()),
    ("minus_weights", lambda lp, w: (lp * -w.detach()).mean()),
    ("zero_minus", lambda lp, w: 0.0 - (lp * w.detach()).mean()),
    ("minus_one_times", lambda lp, w: -1.0 * (lp * w.detach()).mean()),
    ("loop", lambda lp, w: _loop(lp, w.detach())),
    ("reversed_sum", lambda lp, w: -(lp.flip(0) * w.detach().flip(0)).sum() / len(lp)),
    ("cumsum_last", lambda lp, w: -torch.cumsum(lp * w.detach(), 0)[-1] / len(lp)),
    ("sorted_sum", lambda lp, w: -(lp * w.detach()).sort().values.sum() / len(lp)),
    ("nanmean", lambda lp, w: -(lp * w.detach()).nanmean()),
    ("weighted_mean", lambda lp, w: -(lp * w.detach()).sum() / torch.ones_like(lp).sum()),
    ("column_matmul", lambda lp, w: -(lp[None, :] @ w.detach()[:, None]).squeeze() / len(lp)),
    ("mean_of_halves", lambda lp, w: _mean_of_pieces(lp, w.detach())),
    ("float32_cast", lambda lp, w: -(lp.float() * w.detach().float()).mean().to(lp.dtype)),
    ("helper_detach", lambda lp, w: -(lp * _detached(w)).mean()),
    ("addcmul", lambda lp, w: -torch.addcmul(torch.zeros_like(lp), lp, w.detach()).mean()),
    ("tensordot", lambda lp, w: -torch.tensordot(lp, w.detach(), dims=1) / len(lp)),
    ("divide_first", lambda lp, w: -(lp / len(lp) * w.detach()).sum()),
    ("weights_scaled_first", lambda lp, w: -(lp * (w.detach() / len(lp))).sum()),
    ("inner", lambda lp, w: -torch.inner(lp, w.detach()) / len(lp)),
    ("fsum", lambda lp, w: -torch.stack([a * b for a, b in zip(lp, w.detach(),
                                                                strict=True)]).mean()),
)


def _no_grad_copy(weights: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return weights.clone()


def _loop(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    total = log_probs.new_zeros(())
    for log_prob, weight in zip(log_probs, weights, strict=True):
        total = total - log_prob * weight
    return total / len(log_probs)


def _mean_of_pieces(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Sum of the two halves' sums over N: the same mean, in another float order."""
    half = len(log_probs) // 2
    products = log_probs * weights
    return -(products[:half].sum() + products[half:].sum()) / len(log_probs)


def _named(name: str, form: Callable) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    def reinforce_loss(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return form(log_probs, weights)

    reinforce_loss.__qualname__ = f"reinforce_loss[{name}]"
    return reinforce_loss


#: more than 30 correct ``reinforce_loss`` implementations
LOSSES: tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], ...] = tuple(
    _named(name, form) for name, form in _FORMS
)
