"""The procedures of notebook 06's second part (PPO-Clip's pieces): how each case calls them.

Each returns raw outputs only; :mod:`autograder.judge.specs.ppo_clip` and
:mod:`autograder.judge.specs.ppo_update` compare them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.calls import NOT_A_TENSOR, CaseProblem, procedure
from autograder.box.procedures.a2c import constant, trained_policy


def loss_and_gradients(loss: Any, inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A loss case's output: the scalar and its gradient with respect to each of ``inputs``.

    An input the loss does not reach (or a loss without a gradient) gets zeros, which the
    comparison then names.
    """
    if not torch.is_tensor(loss) or loss.ndim != 0:
        raise CaseProblem(f"return a scalar (0-dim) torch tensor; got {loss!r:.100}")
    found = (torch.autograd.grad(loss, list(inputs.values()), allow_unused=True)
             if loss.requires_grad else [None] * len(inputs))
    return {"loss": loss.item(),
            **{f"d loss / d {name}": (torch.zeros_like(x) if g is None else g).double().numpy()
               for (name, x), g in zip(inputs.items(), found, strict=True)}}


#: the ratio's field names in :func:`ratio_run`'s output
RATIO = "ratio"
RATIO_GRADIENTS = ("d / d log_probs", "d / d old_log_probs (must be 0)")


@procedure("ppo_clip.ratio")
def ratio_run(fn: Any, log_probs: Any, old_log_probs: Any,
              dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The ratio and the gradient of a weighted sum of it w.r.t. both inputs (zeros if none)."""
    weights = np.linspace(0.5, 1.5, len(log_probs))
    new = torch.tensor(log_probs, dtype=dtype, requires_grad=True)
    old = torch.tensor(old_log_probs, dtype=dtype, requires_grad=True)
    ratio = fn(new, old)
    if not torch.is_tensor(ratio):
        raise CaseProblem(f"return a torch tensor; got {type(ratio).__name__}")
    grads = [torch.zeros_like(new), torch.zeros_like(old)]
    if ratio.requires_grad and ratio.shape == new.shape:
        found = torch.autograd.grad((ratio * torch.as_tensor(weights, dtype=dtype)).sum(),
                                    (new, old), allow_unused=True)
        grads = [g if f is None else f for g, f in zip(grads, found, strict=True)]
    return {RATIO: ratio.detach().double().numpy(),
            **{name: g.double().numpy() for name, g in zip(RATIO_GRADIENTS, grads, strict=True)}}


@procedure("ppo_clip.clip_loss")
def clip_run(fn: Any, ratio: Any, advantages: Any, clip_eps: float,
             dtype: torch.dtype = torch.float32, constants_grad: bool = False,
             ) -> dict[str, Any]:
    """L^CLIP's loss and its gradient with respect to the ratio.

    With ``constants_grad`` the advantages require a gradient too (as a critic's output
    does), and their gradient is reported: it must be 0.
    """
    r = torch.tensor(ratio, dtype=dtype, requires_grad=True)
    a = torch.tensor(advantages, dtype=dtype, requires_grad=constants_grad)
    inputs = {"ratio": r} | ({constant("advantages"): a} if constants_grad else {})
    return loss_and_gradients(fn(r, a, clip_eps), inputs)


@procedure("ppo_clip.value_loss")
def value_run(fn: Any, values: Any, old_values: Any, returns: Any, clip_eps: float | None,
              dtype: torch.dtype = torch.float32, constants_grad: bool = False,
              ) -> dict[str, Any]:
    """The critic's loss and its gradient with respect to the values.

    With ``constants_grad`` the old values and the returns require a gradient too, and their
    gradients are reported: they must be 0.
    """
    v = torch.tensor(values, dtype=dtype, requires_grad=True)
    old, g = (torch.tensor(x, dtype=dtype, requires_grad=constants_grad)
              for x in (old_values, returns))
    inputs = {"values": v} | (
        {constant("old_values"): old, constant("returns"): g} if constants_grad else {})
    return loss_and_gradients(fn(v, old, g, clip_eps), inputs)


def total_inputs(n: int, seed: int) -> dict[str, Any]:
    """One minibatch's three loss terms (``n`` entropies), drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return {"clip_loss": rng.normal(), "critic_loss": rng.exponential(),
            "entropy": rng.uniform(0.1, 1.0, size=n)}


@procedure("ppo_clip.total_loss")
def total_run(fn: Any, n: int, seed: int, value_coef: float, entropy_coef: float,
              dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The total loss and its gradient w.r.t. clip_loss, critic_loss and entropy."""
    tensors = {k: torch.tensor(v, dtype=dtype, requires_grad=True)
               for k, v in total_inputs(n, seed).items()}
    loss = fn(tensors["clip_loss"], tensors["critic_loss"], tensors["entropy"], value_coef,
              entropy_coef)
    return loss_and_gradients(loss, tensors)


@procedure("ppo_clip.kl")
def kl_run(fn: Any, log_probs: Any, old_log_probs: Any,
           dtype: torch.dtype = torch.float32) -> np.ndarray:
    """The estimate, as a float64 array of the shape it came in."""
    value = fn(torch.tensor(log_probs, dtype=dtype), torch.tensor(old_log_probs, dtype=dtype))
    if not (torch.is_tensor(value) or isinstance(value, float | int | np.floating)):
        raise CaseProblem(f"return a scalar (a 0-dim tensor or a float); got "
                          f"{type(value).__name__}")
    return torch.as_tensor(value).detach().double().numpy()


@procedure("ppo_clip.normalize")
def norm_run(fn: Any, advantages: Any, dtype: torch.dtype = torch.float32) -> Any:
    """``fn`` of a tensor of ``advantages``, as a float64 array.

    The trainer hands the output to the clip loss as a tensor: anything else comes back as
    ``{NOT_A_TENSOR: its type}``.
    """
    out = fn(torch.tensor(advantages, dtype=dtype))
    if not torch.is_tensor(out):
        return {NOT_A_TENSOR: type(out).__name__}
    return out.detach().double().numpy()


def _epoch(fn: Any, n: int, n_minibatches: int, rng: np.random.Generator) -> list[list[int]]:
    parts = fn(n, n_minibatches, rng)
    try:
        return [np.asarray(p).astype(np.int64).ravel().tolist() for p in parts]
    except (TypeError, ValueError) as exc:
        raise CaseProblem(f"return a list of integer index arrays; got {parts!r:.100}") from exc


@procedure("ppo_clip.minibatches")
def minibatch_run(fn: Any, n: int, n_minibatches: int, seed: int) -> dict[str, Any]:
    """Two epochs' minibatches from one generator, and a first epoch again from the same seed."""
    rng = np.random.default_rng(seed)
    first, second = _epoch(fn, n, n_minibatches, rng), _epoch(fn, n, n_minibatches, rng)
    again = _epoch(fn, n, n_minibatches, np.random.default_rng(seed))
    return {"first epoch": first, "second epoch": second, "first epoch again": again}


#: the trainer's keyword of each of the student's functions (every graded piece it calls).
TRAIN_KEYWORDS = {"importance_ratio": "ratio_fn", "ppo_clip_loss": "clip_loss_fn",
                  "clipped_value_loss": "value_loss_fn", "ppo_loss": "loss_fn",
                  "approx_kl_low_variance": "kl_fn",
                  "normalize_advantages": "normalize_fn", "minibatch_indices": "minibatch_fn"}


@procedure("ppo_clip.learn")
def learn_run(fn: Any, seed: int, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """PPO on CartPole-v1 with the student's pieces; the trained policy's weights."""
    from rlkit.agents import ppo

    return trained_policy(ppo.train, ppo.PPOConfig, TRAIN_KEYWORDS, fn, seed, config)
