"""Correct implementations of notebook 03's five DQN functions, written in many different ways.

A learning check (``dqn.learns``) must pass EVERY correct implementation, not only the
reference: a training run is chaotic, so a sampler that draws its indices in another order, or
a loss computed in another float order, gives a different run from the same seed. This module
generates such variants:

* :data:`SAMPLERS`: ``sample_batch`` with more than 30 different random streams (``integers``
  with several dtypes, ``choice`` with or without replacement, ``random() * n``, permutation
  slices, one draw at a time, per-field draws that repeat the same indices, ...), each returning
  its batch in one of several correct ways;
* :data:`EPSILONS`, :data:`TD_TARGETS`, :data:`LOSSES`, :data:`UPDATES`: the other four
  functions written differently (``np.interp``, float32 math, loops, ``torch.where``, Huber by
  hand, ``lerp_`` vs ``copy_``, ``load_state_dict``, ...);
* :func:`agents`: whole agents (a dict of the five functions, as ``dqn.learns`` takes them),
  one per sampler, the other four functions cycled through their variants.

Every variant passes its own check (``tests/test_learning_checks.py`` asserts it), and
:func:`distinct_streams` counts the samplers whose index streams really differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (torch's convention)
from torch import nn

from rlkit.buffers import Batch, ReplayBuffer

Draw = Callable[[np.random.Generator, int, int], np.ndarray]
"""``draw(rng, n, batch_size)``: indices in ``[0, n)``, each uniform (with replacement)."""

# --------------------------------------------------------------------------- sample_batch


def _draw_per_field_repeating_state(rng: np.random.Generator, n: int, b: int) -> list:
    """One index array per field, each drawn from the same saved generator state."""
    state = rng.bit_generator.state
    draws = []
    for _ in range(6):
        rng.bit_generator.state = state
        draws.append(rng.integers(0, n, size=b))
    return draws


def _draw_per_field_child_seed(rng: np.random.Generator, n: int, b: int) -> list:
    """One index array per field, each from a fresh generator seeded with one drawn seed."""
    seed = int(rng.integers(2**63))
    return [np.random.default_rng(seed).integers(0, n, size=b) for _ in range(6)]


def _blocks_of_permutations(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Concatenated permutations of [0, n): each slot uniform, batches larger than n too."""
    return np.concatenate([rng.permutation(n) for _ in range(math.ceil(b / n))])[:b]


def _without_replacement(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Without replacement when the buffer holds enough transitions (each slot uniform)."""
    return rng.choice(n, size=b, replace=b > n)


def _multinomial_counts(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """How many times each transition is drawn (multinomial), in a random order."""
    counts = rng.multinomial(b, np.full(n, 1.0 / n))
    return rng.permutation(np.repeat(np.arange(n), counts))


def _shuffled_prefix(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """rng.shuffle of all indices, the first b (when b <= n); else with replacement."""
    if b > n:
        return rng.integers(0, n, size=b)
    order = np.arange(n)
    rng.shuffle(order)
    return order[:b]


def _rejection(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Draw below the next power of two and draw again where an index is >= n."""
    bound = 1 << max(n - 1, 1).bit_length()
    index = rng.integers(0, bound, size=b)
    while (too_big := index >= n).any():
        index[too_big] = rng.integers(0, bound, size=int(too_big.sum()))
    return index



def _ratio_uniform(rng: np.random.Generator, b: int) -> np.ndarray:
    """U = E1 / (E1 + E2) with E1, E2 standard exponentials is uniform on [0, 1)."""
    e = rng.standard_exponential(size=(2, b))
    return e[0] / (e[0] + e[1])


_erf = np.vectorize(math.erf, otypes=[float])

#: (name, draw): each gives every index in [0, n) with probability 1/n per slot.
DRAWS: tuple[tuple[str, Any], ...] = (
    ("integers", lambda rng, n, b: rng.integers(0, n, size=b)),
    ("integers_int32", lambda rng, n, b: rng.integers(0, n, size=b, dtype=np.int32)),
    ("integers_uint32", lambda rng, n, b: rng.integers(0, n, size=b, dtype=np.uint32)),
    ("integers_endpoint", lambda rng, n, b: rng.integers(0, n - 1, size=b, endpoint=True)),
    ("integers_negative_range", lambda rng, n, b: rng.integers(-n, 0, size=b) + n),
    ("integers_column", lambda rng, n, b: rng.integers(0, n, size=(b, 1))[:, 0]),
    ("integers_one_more_dropped", lambda rng, n, b: rng.integers(0, n, size=b + 1)[1:]),
    ("integers_every_other", lambda rng, n, b: rng.integers(0, n, size=2 * b)[::2]),
    ("integers_reversed", lambda rng, n, b: rng.integers(0, n, size=b)[::-1]),
    ("integers_sorted", lambda rng, n, b: np.sort(rng.integers(0, n, size=b))),
    ("integers_mirrored", lambda rng, n, b: n - 1 - rng.integers(0, n, size=b)),
    ("integers_rotated", lambda rng, n, b: (rng.integers(0, n, size=b) + rng.integers(n)) % n),
    ("integers_wide_modulo", lambda rng, n, b: rng.integers(0, 2**62, size=b) % n),
    ("integers_one_at_a_time", lambda rng, n, b: np.array([rng.integers(n) for _ in range(b)])),
    ("integers_int32_one_at_a_time",
     lambda rng, n, b: np.array([rng.integers(n, dtype=np.int32) for _ in range(b)])),
    ("random_times_n", lambda rng, n, b: (rng.random(b) * n).astype(np.int64)),
    ("random_floor", lambda rng, n, b: np.floor(rng.random(b) * n).astype(int)),
    ("random_mirrored", lambda rng, n, b: n - 1 - (rng.random(b) * n).astype(np.int64)),
    ("random_float32",
     lambda rng, n, b: np.minimum((rng.random(b, dtype=np.float32) * n).astype(int), n - 1)),
    ("random_one_at_a_time", lambda rng, n, b: np.array([int(rng.random() * n)
                                                         for _ in range(b)])),
    ("random_floor_divide", lambda rng, n, b: (rng.random(b) * n // 1).astype(np.intp)),
    ("uniform", lambda rng, n, b: rng.uniform(0, n, size=b).astype(np.int64)),
    ("uniform_clipped", lambda rng, n, b: np.clip(rng.uniform(0, n, size=b).astype(int), 0,
                                                  n - 1)),
    ("choice", lambda rng, n, b: rng.choice(n, size=b)),
    ("choice_of_arange", lambda rng, n, b: rng.choice(np.arange(n), size=b)),
    ("choice_with_p", lambda rng, n, b: rng.choice(n, size=b, p=np.full(n, 1.0 / n))),
    ("choice_without_replacement", _without_replacement),
    ("choice_without_replacement_unshuffled",
     lambda rng, n, b: rng.choice(n, size=b, replace=b > n, shuffle=False)),
    ("permutation_slices", _blocks_of_permutations),
    ("shuffled_prefix", _shuffled_prefix),
    ("multinomial_counts", _multinomial_counts),
    ("warm_up_draw_first",
     lambda rng, n, b: (rng.random(), rng.integers(0, n, size=b))[1]),
    ("spawned_generator", lambda rng, n, b: rng.spawn(1)[0].integers(0, n, size=b)),
    ("standard_uniform_via_exponential",  # a uniform from two exponentials' ratio, exactly
     lambda rng, n, b: np.minimum((_ratio_uniform(rng, b) * n).astype(int), n - 1)),
    ("per_field_same_state", _draw_per_field_repeating_state),
    ("per_field_child_seed", _draw_per_field_child_seed),
    ("bytes", lambda rng, n, b: np.frombuffer(rng.bytes(8 * b), dtype=np.uint64) % n),
    ("permuted_rows", lambda rng, n, b: rng.permuted(np.tile(np.arange(n), (b, 1)),
                                                     axis=1)[:, 0]),
    ("integers_shuffled", lambda rng, n, b: rng.integers(0, n, size=b)[rng.permutation(b)]),
    ("integers_halved", lambda rng, n, b: rng.integers(0, 2 * n, size=b) // 2),
    ("integers_seventh", lambda rng, n, b: rng.integers(0, 7 * n, size=b) // 7),
    ("integers_plus_one", lambda rng, n, b: (rng.integers(0, n, size=b) + 1) % n),
    ("integers_int16_when_small", lambda rng, n, b: rng.integers(
        0, n, size=b, dtype=np.int16 if n < 2**15 else np.int64).astype(np.int64)),
    ("integers_after_an_integer", lambda rng, n, b: (rng.integers(n),
                                                      rng.integers(0, n, size=b))[1]),
    ("multiply_shift", lambda rng, n, b: (rng.integers(0, 2**32, size=b, dtype=np.uint64)
                                          * np.uint64(n)) >> np.uint64(32)),
    ("normal_cdf", lambda rng, n, b: np.minimum(
        (0.5 * (1 + _erf(rng.standard_normal(b) / math.sqrt(2))) * n).astype(int), n - 1)),
    ("beta_1_1", lambda rng, n, b: np.minimum((rng.beta(1.0, 1.0, size=b) * n).astype(int),
                                              n - 1)),
    ("power_1", lambda rng, n, b: np.minimum((rng.power(1.0, size=b) * n).astype(int), n - 1)),
    ("child_generator", lambda rng, n, b: np.random.default_rng(
        int(rng.integers(2**32))).integers(0, n, size=b)),
    ("random_reversed", lambda rng, n, b: (rng.random(b) * n).astype(np.int64)[::-1]),
    ("random_sorted", lambda rng, n, b: np.sort((rng.random(b) * n).astype(np.int64))),
    ("random_raw_modulo", lambda rng, n, b: rng.bit_generator.random_raw(b) % np.uint64(n)),
    ("cauchy_cdf", lambda rng, n, b: np.minimum(
        ((0.5 + np.arctan(rng.standard_cauchy(b)) / np.pi) * n).astype(int), n - 1)),
    ("rejection_from_a_power_of_two", _rejection),
)


def _fields(buffer: ReplayBuffer) -> tuple[np.ndarray, ...]:
    return (buffer.obs, buffer.actions, buffer.rewards, buffer.next_obs, buffer.terminated,
            buffer.truncated)


def _build_positional(buffer: ReplayBuffer, index: Any) -> Batch:
    if isinstance(index, list):  # one index array per field
        return Batch(*(field[i] for field, i in zip(_fields(buffer), index, strict=True)))
    return Batch(buffer.obs[index], buffer.actions[index], buffer.rewards[index],
                 buffer.next_obs[index], buffer.terminated[index], buffer.truncated[index])


def _build_keywords(buffer: ReplayBuffer, index: Any) -> Batch:
    if isinstance(index, list):
        return _build_positional(buffer, index)
    return Batch(obs=np.take(buffer.obs, index, axis=0),
                 actions=np.take(buffer.actions, index, axis=0),
                 rewards=np.take(buffer.rewards, index),
                 next_obs=np.take(buffer.next_obs, index, axis=0),
                 terminated=np.take(buffer.terminated, index),
                 truncated=np.take(buffer.truncated, index))


def _build_make(buffer: ReplayBuffer, index: Any) -> Batch:
    if isinstance(index, list):
        return _build_positional(buffer, index)
    return Batch._make(field[index].copy() for field in _fields(buffer))


def _build_torch(buffer: ReplayBuffer, index: Any) -> Batch:
    """Torch tensors instead of numpy arrays (the trainer converts either)."""
    if isinstance(index, list):
        return _build_positional(buffer, index)
    i = torch.as_tensor(np.asarray(index, dtype=np.int64))
    return Batch(*(torch.as_tensor(field)[i] for field in _fields(buffer)))


BUILDERS = (_build_positional, _build_keywords, _build_make, _build_torch)


def _sampler(name: str, draw: Any, build: Any) -> Callable[..., Batch]:
    def sample_batch(buffer: ReplayBuffer, batch_size: int, rng: np.random.Generator) -> Batch:
        return build(buffer, draw(rng, len(buffer), batch_size))

    sample_batch.__qualname__ = f"sample_batch[{name}, {build.__name__.removeprefix('_')}]"
    return sample_batch


#: one ``sample_batch`` per draw, the batch built in one of :data:`BUILDERS`' ways
SAMPLERS: tuple[Callable[..., Batch], ...] = tuple(
    _sampler(name, draw, BUILDERS[i % len(BUILDERS)]) for i, (name, draw) in enumerate(DRAWS)
)


def index_stream(sampler: Callable[..., Batch], draws: int = 20, seed: int = 0) -> tuple:
    """The transitions ``sampler`` picks in ``draws`` batches of 16 from a growing buffer."""
    buffer = ReplayBuffer(64, obs_shape=(1,))
    rng = np.random.default_rng(seed)
    picked = []
    for i in range(draws):
        for _ in range(3):
            buffer.add([len(picked) + i], 0, 0.0, [0.0], terminated=False, truncated=False)
        picked.append(tuple(np.asarray(sampler(buffer, 16, rng).obs)[:, 0].astype(int)))
    return tuple(picked)


def distinct_streams(samplers: tuple[Callable[..., Batch], ...] = SAMPLERS) -> int:
    """How many of ``samplers`` pick different transitions from the same generator."""
    return len({index_stream(s) for s in samplers})


# --------------------------------------------------------------------------- linear_epsilon


def epsilon_formula(step, start, end, decay_steps):
    if decay_steps == 0:
        return end
    return start + (end - start) * min(1.0, step / decay_steps)


def epsilon_interp(step, start, end, decay_steps):
    if decay_steps == 0:
        return end
    return float(np.interp(step, [0, decay_steps], [start, end]))


def epsilon_branches(step, start, end, decay_steps):
    if step >= decay_steps:
        return end
    return start - (start - end) * step / decay_steps


def epsilon_float32(step, start, end, decay_steps):
    fraction = np.float32(1.0)
    if step < decay_steps:
        fraction = np.float32(step) / np.float32(decay_steps)
    return float(np.float32(start) + (np.float32(end) - np.float32(start)) * fraction)


def epsilon_lerp(step, start, end, decay_steps):
    fraction = 1.0 if decay_steps <= 0 else float(np.clip(step / decay_steps, 0.0, 1.0))
    return (1.0 - fraction) * start + fraction * end


def epsilon_torch(step, start, end, decay_steps):
    fraction = torch.tensor(step / decay_steps if decay_steps else 1.0).clamp(max=1.0)
    return torch.lerp(torch.tensor(float(start)), torch.tensor(float(end)), fraction).item()


EPSILONS = (epsilon_formula, epsilon_interp, epsilon_branches, epsilon_float32, epsilon_lerp,
            epsilon_torch)

# --------------------------------------------------------------------------- td_target


def td_formula(rewards, next_q_values, terminated, gamma):
    best_next = next_q_values.max(dim=1).values
    return (rewards + gamma * (1.0 - terminated) * best_next).detach()


def td_where(rewards, next_q_values, terminated, gamma):
    with torch.no_grad():
        bootstrap = rewards + gamma * next_q_values.max(dim=-1)[0]
        return torch.where(terminated.bool(), rewards, bootstrap)


def td_amax_float64(rewards, next_q_values, terminated, gamma):
    best = next_q_values.detach().double().amax(dim=1)
    target = rewards.double() + gamma * (1 - terminated.double()) * best
    return target.to(rewards.dtype)


def td_loop(rewards, next_q_values, terminated, gamma):
    values = []
    for r, q, done in zip(rewards.tolist(), next_q_values.detach().tolist(),
                          terminated.tolist(), strict=True):
        values.append(r if done else r + gamma * max(q))
    return torch.tensor(values, dtype=rewards.dtype)


def td_addcmul(rewards, next_q_values, terminated, gamma):
    not_done = (~terminated.bool()).to(rewards.dtype)
    best = torch.max(next_q_values.detach(), dim=1, keepdim=True).values.squeeze(1)
    return torch.addcmul(rewards, not_done, best, value=gamma)


def td_sorted(rewards, next_q_values, terminated, gamma):
    best = next_q_values.detach().sort(dim=1).values[:, -1]
    return rewards + gamma * (best - terminated * best)


TD_TARGETS = (td_formula, td_where, td_amax_float64, td_loop, td_addcmul, td_sorted)

# --------------------------------------------------------------------------- dqn_loss


def loss_smooth_l1(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(chosen, targets.detach())


def loss_huber_by_hand(q_values, actions, targets):
    chosen = q_values[torch.arange(len(actions)), actions]
    error = chosen - targets.detach()
    return torch.where(error.abs() <= 1.0, 0.5 * error**2, error.abs() - 0.5).mean()


def loss_huber_module(q_values, actions, targets):
    chosen = (q_values * F.one_hot(actions, q_values.shape[1])).sum(dim=1)
    return nn.HuberLoss(delta=1.0)(chosen, targets.detach())


def loss_clamped(q_values, actions, targets):
    chosen = torch.gather(q_values, 1, actions.view(-1, 1)).view(-1)
    error = (targets.detach() - chosen).abs()
    quadratic = error.clamp(max=1.0)
    return (0.5 * quadratic**2 + (error - quadratic)).mean()


def loss_loop(q_values, actions, targets):
    total = q_values.new_zeros(())
    for j in range(len(actions)):
        error = q_values[j, actions[j]] - targets[j].detach()
        total = total + (0.5 * error**2 if error.abs() < 1 else error.abs() - 0.5)
    return total / len(actions)


def loss_float64(q_values, actions, targets):
    chosen = q_values.double().gather(1, actions[:, None])[:, 0]
    return F.huber_loss(chosen, targets.detach().double()).to(q_values.dtype)


LOSSES = (loss_smooth_l1, loss_huber_by_hand, loss_huber_module, loss_clamped, loss_loop,
          loss_float64)

# --------------------------------------------------------------------------- update_target


def update_copy(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.copy_(tau * p + (1.0 - tau) * tp)


def update_lerp(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.lerp_(p, tau)


def update_mul_add(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.mul_(1.0 - tau).add_(p, alpha=tau)


def update_state_dict(online, target, tau=1.0):
    old = target.state_dict()
    target.load_state_dict({k: tau * v + (1 - tau) * old[k] for k, v in
                            online.state_dict().items()})


def update_data(online, target, tau=1.0):
    for p, tp in zip(online.parameters(), target.parameters(), strict=True):
        tp.data.copy_(p.data if tau == 1 else tau * p.data + (1 - tau) * tp.data)


def update_named(online, target, tau=1.0):
    targets = dict(target.named_parameters())
    with torch.no_grad():
        for name, p in online.named_parameters():
            targets[name].copy_(torch.lerp(targets[name], p, tau))


UPDATES = (update_copy, update_lerp, update_mul_add, update_state_dict, update_data,
           update_named)

#: the check of each function and its variants
VARIANTS: dict[str, tuple[Callable, ...]] = {
    "linear_epsilon": EPSILONS,
    "sample_batch": SAMPLERS,
    "td_target": TD_TARGETS,
    "dqn_loss": LOSSES,
    "update_target": UPDATES,
}


def agents() -> list[dict[str, Callable]]:
    """One agent per sampler; the other functions cycle through their variants.

    Each cycle has 6 entries and the samplers' count is not a multiple of 6 times anything
    small, so the agents combine the other functions differently too (offset cycles).
    """
    found = []
    for i, sampler in enumerate(SAMPLERS):
        found.append({
            "linear_epsilon": EPSILONS[i % len(EPSILONS)],
            "sample_batch": sampler,
            "td_target": TD_TARGETS[(i // 2) % len(TD_TARGETS)],
            "dqn_loss": LOSSES[(i // 3) % len(LOSSES)],
            "update_target": UPDATES[(i + i // 6) % len(UPDATES)],
        })
    return found


def agent_name(agent: dict[str, Callable]) -> str:
    """A readable id of an agent: its sampler and the other variants' names."""
    sampler = agent["sample_batch"].__qualname__.removeprefix("sample_batch")
    others = "/".join(agent[k].__name__ for k in ("linear_epsilon", "td_target", "dqn_loss",
                                                   "update_target"))
    return f"{sampler} {others}"
