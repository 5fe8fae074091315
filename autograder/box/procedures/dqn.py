"""The procedures of notebook 03's checks (DQN): how each case calls the student's function.

Each returns raw outputs only; :mod:`autograder.judge.specs.dqn` compares them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from autograder.box.calls import CaseProblem, module_state, procedure


@procedure("dqn.epsilon")
def epsilon_run(fn: Any, start: float, end: float, decay: int, steps: list[int]) -> np.ndarray:
    """Epsilon at each of ``steps``."""
    return np.array([fn(t, start, end, decay) for t in steps], dtype=float)


def indexed_buffer(capacity: int, n_added: int) -> Any:
    """A buffer whose transition number i carries i in every field (to recover indices)."""
    from rlkit.buffers import ReplayBuffer

    buffer = ReplayBuffer(capacity, obs_shape=(2,))
    for i in range(n_added):
        buffer.add([i, -i], i, float(i), [i + 1, -i - 1], terminated=i % 3 == 0,
                   truncated=i % 5 == 0)
    return buffer


#: the fields of a sampled batch that :func:`sample_run` returns, each as read from the batch.
SAMPLE_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated")


@procedure("dqn.sample")
def sample_run(fn: Any, capacity: int, n_added: int, batch_size: int, seed: int,
               draws: int) -> dict[str, np.ndarray]:
    """``draws`` batches from one generator: each field's first column, shape (draws, batch)."""
    buffer = indexed_buffer(capacity, n_added)
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {name: [] for name in SAMPLE_FIELDS}
    for _ in range(draws):
        batch = fn(buffer, batch_size, rng)
        for name in SAMPLE_FIELDS:
            value = np.asarray(getattr(batch, name), dtype=float)
            value = value.reshape(len(value), -1)[:, 0] if value.ndim > 1 else value
            if value.shape != (batch_size,):
                raise CaseProblem(f"the batch's {name} holds {value.shape[0] if value.ndim else 1}"
                                  f" transitions; expected {batch_size}")
            out[name].append(value)
    return {name: np.stack(values) for name, values in out.items()}


@procedure("dqn.td_target")
def td_run(fn: Any, rewards: Any, next_q: Any, terminated: Any, gamma: float) -> dict[str, Any]:
    """The target and whether it carries a gradient back to Q(s', .)."""
    next_q_values = torch.tensor(next_q, dtype=torch.float32, requires_grad=True)
    target = fn(torch.tensor(rewards, dtype=torch.float32), next_q_values,
                torch.tensor(terminated, dtype=torch.float32), gamma)
    if not torch.is_tensor(target):
        raise TypeError(f"return a torch tensor, got {type(target).__name__}")
    return {"target": target.detach().numpy(),
            "target carries a gradient": float(target.requires_grad)}


@procedure("dqn.loss")
def loss_run(fn: Any, q: Any, actions: Any, targets: Any) -> dict[str, Any]:
    """The loss, dL/dQ and whether a gradient reaches the targets."""
    q_values = torch.tensor(q, dtype=torch.float32, requires_grad=True)
    raw_targets = torch.tensor(targets, dtype=torch.float32, requires_grad=True)
    loss = fn(q_values, torch.tensor(actions, dtype=torch.int64), raw_targets * 1.0)
    if not torch.is_tensor(loss) or loss.ndim != 0:
        shape = tuple(loss.shape) if torch.is_tensor(loss) else type(loss).__name__
        raise CaseProblem(f"the loss must be a scalar tensor (mean over the batch); got {shape}")
    loss.backward()
    reached = raw_targets.grad is not None and bool(raw_targets.grad.abs().sum() > 0)
    grad = q_values.grad.numpy() if q_values.grad is not None else np.zeros_like(q, dtype=float)
    return {"loss": loss.item(), "dL/dQ": grad, "gradient reaches the targets": float(reached)}


def _nets(seed: int) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    online = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    target = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    return online, target


def _flat(module: nn.Module) -> np.ndarray:
    return torch.cat([p.detach().flatten() for p in module.parameters()]).numpy().copy()


@procedure("dqn.update_target")
def update_run(fn: Any, seed: int, tau: float | None) -> dict[str, Any]:
    """Both networks' weights after the update, and the target's after the online net moves."""
    online, target = _nets(seed)
    result = fn(online, target) if tau is None else fn(online, target, tau)
    online_before = _flat(online)
    target_after = _flat(target)
    with torch.no_grad():  # the online net trains on: a copied target must not follow
        for p in online.parameters():
            p.add_(1.0)
    return {"target after the update": target_after, "online after the update": online_before,
            "target after the online net moves on": _flat(target),
            "returned a new module (not None, not the target)":
                float(result is not None and result is not target)}


#: the trainer's keyword of each of the student's functions.
TRAIN_KEYWORDS = {"linear_epsilon": "epsilon_fn", "sample_batch": "sample_fn",
                  "td_target": "td_target_fn", "dqn_loss": "loss_fn",
                  "update_target": "update_target_fn"}


@procedure("dqn.learn")
def learn_run(fn: Any, seed: int, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """DQN on CartPole-v1 with the student's five functions; the trained Q-network's weights."""
    from rlkit.agents import dqn

    pieces = {TRAIN_KEYWORDS[name]: f for name, f in dict(fn).items()}
    history = dqn.train(dqn.DQNConfig(**config), seed=seed, **pieces)
    return module_state(history.q_network)
