"""The procedures of notebook 07's checks (``rlhf.*``): reward model, RL pieces, DPO, REBEL.

Each calls the student's function on tensors built here (some requiring a gradient) and returns
raw data: values, gradients, the type of what came back, the trained reward model's
parameters. The judge (:mod:`autograder.judge.specs.rlhf`,
:mod:`autograder.judge.specs.rlhf_policy`) compares them; nothing here knows the answers, and
the learning run never sees the rankings on which the judge measures the trained reward model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from autograder.box.calls import NOT_A_TENSOR, CaseProblem, module_state, procedure
from autograder.box.procedures.a2c import constant
from autograder.box.procedures.ppo_clip import loss_and_gradients

# --- shared


def _as_float64(out: Any) -> np.ndarray:
    return np.asarray(out.detach() if torch.is_tensor(out) else out, dtype=np.float64)


@procedure("rlhf.arrays")
def arrays_run(fn, values: Sequence[Any], dtype=torch.float32, tensor: bool = False):
    """``fn`` of one tensor per entry of ``values`` (no gradient); its output as float64.

    With ``tensor`` (the trainer computes with the output as a tensor), anything else comes
    back as ``{NOT_A_TENSOR: its type}``.
    """
    out = fn(*[torch.tensor(v, dtype=dtype) for v in values])
    if tensor and not torch.is_tensor(out):
        return {NOT_A_TENSOR: type(out).__name__}
    return _as_float64(out)


@procedure("rlhf.loss")
def loss_run(fn, names: Sequence[str], values: Sequence[Any], scalar: float | None = None,
             dtype=torch.float32, graded: int | None = None, constants_grad: bool = False):
    """``fn(*tensors[, scalar])``: the loss and its gradients.

    The first ``graded`` tensors (all by default) require a gradient; the others are
    constants, which with ``constants_grad`` require one too (and must get none: their
    gradient is reported under ``"NAME (a constant: 0)"``).
    """
    graded = len(names) if graded is None else graded
    flags = [True] * graded + [constants_grad] * (len(names) - graded)
    tensors = [torch.tensor(v, dtype=dtype, requires_grad=g)
               for v, g in zip(values, flags, strict=True)]
    inputs = dict(zip(names[:graded], tensors[:graded], strict=True))
    if constants_grad:
        inputs |= {constant(name): t
                   for name, t in zip(names[graded:], tensors[graded:], strict=True)}
    out = fn(*tensors) if scalar is None else fn(*tensors, scalar)
    return loss_and_gradients(out, inputs)


# --- the reward model's pieces


@procedure("rlhf.ranking_pairs")
def pairs_run(fn, ranking):
    """The pairs ``fn(ranking)`` gives, as an int64 array (one row per pair, as given)."""
    out = fn(ranking)
    try:
        return np.asarray([tuple(int(x) for x in pair) for pair in out], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise CaseProblem(f"return a list of (chosen, rejected) pairs of ints; got "
                          f"{out!r:.120}") from exc


@procedure("rlhf.reward_model")
def reward_model_run(fn, seed: int, settings: dict[str, Any], task: dict[str, Any]):
    """Train rlkit's reward model with the student's pairs, loss and accuracy: its parameters.

    ``settings`` are :class:`~rlkit.rlhf.reward_model.RewardModelConfig`'s fields but the task,
    ``task`` the :class:`~rlkit.rlhf.task.TaskConfig`'s.
    """
    from rlkit.rlhf.reward_model import RewardModelConfig, train_reward_model
    from rlkit.rlhf.task import TaskConfig

    config = RewardModelConfig(task=TaskConfig(**task), **settings)
    reward_model, _ = train_reward_model(config, seed=seed, pairs_fn=fn["ranking_pairs"],
                                         loss_fn=fn["bradley_terry_loss"],
                                         accuracy_fn=fn["preference_accuracy"])
    return module_state(reward_model)


# --- the RL pieces


@procedure("rlhf.sequence_log_probs")
def log_probs_run(fn, logits, tokens, mask, dtype=torch.float32, mask_dtype=torch.bool):
    """The log-probs and the gradient of their weighted sum (weights 0.5 to 1.5) in the logits.

    The gradient is taken when the output has one entry per response (zeros otherwise); an
    output that is not a tensor comes back as ``{"not a tensor": its type}``.
    """
    x = torch.tensor(logits, dtype=dtype, requires_grad=True)
    out = fn(x, torch.tensor(tokens, dtype=torch.long), torch.tensor(mask, dtype=mask_dtype))
    if not torch.is_tensor(out):
        return {NOT_A_TENSOR: type(out).__name__}
    grad = torch.zeros_like(x)
    if tuple(out.shape) == (len(tokens),) and out.requires_grad:
        weights = torch.as_tensor(np.linspace(0.5, 1.5, len(tokens)), dtype=out.dtype)
        (found,) = torch.autograd.grad((out * weights).sum(), x, allow_unused=True)
        grad = grad if found is None else found
    return {"log-probs": out.detach().double().numpy(),
            "d (weighted sum) / d logits": grad.double().numpy()}


@procedure("rlhf.kl_penalized_rewards")
def kl_run(fn, score, log_probs, ref_log_probs, mask, beta, dtype=torch.float32,
           with_grad=False):
    """The rewards and whether they carry a gradient (``{"not a tensor": type}`` otherwise)."""
    s = torch.tensor(score, dtype=dtype, requires_grad=with_grad)
    lp = torch.tensor(log_probs, dtype=dtype, requires_grad=with_grad)
    out = fn(s, lp, torch.tensor(ref_log_probs, dtype=dtype),
             torch.tensor(mask, dtype=dtype if with_grad else torch.bool), beta)
    if not torch.is_tensor(out):
        return {NOT_A_TENSOR: type(out).__name__}
    return {"rewards": out.detach().double().numpy(),
            "carries a gradient (must be False)": bool(out.requires_grad)}


__all__ = ["arrays_run", "kl_run", "log_probs_run", "loss_and_gradients", "loss_run",
           "pairs_run", "reward_model_run"]
