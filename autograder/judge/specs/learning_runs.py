"""What the learning-run specs share; no spec of its own (so not in ``SPEC_MODULES``).

A learning spec plugs the student's functions into one of rlkit's trainers
(:func:`autograder.judge.core.learning_case`, DESIGN section 5, layer 3): :func:`trained_with`
runs a trainer with an agent's functions, :func:`learning_spec` builds the spec whose known bugs
are agents with one broken function, and :func:`on_policy_learning_cases` is the case of A2C and
PPO, whose trained policy's weights the judge evaluates as their trainer does
(:func:`policy_score`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch

from autograder.judge.core import Case, CheckSpec, broken_agent, learning_case


def trained_with(train: Callable, config: Any, keywords: Mapping[str, str],
                 agent: Mapping[str, Callable], seed: int) -> Any:
    """``train(config, seed=seed)`` with ``agent``'s functions under the trainer's ``keywords``."""
    return train(config, seed=seed, **{keywords[name]: fn for name, fn in agent.items()})


def learning_spec(name: str, agent: tuple[str, ...], reference: Mapping[str, Callable],
                  points: int, cases: Callable[[], list[Case]],
                  fails: Iterable[tuple[CheckSpec, str]], hint: str) -> CheckSpec:
    """The learning check of ``agent``'s functions.

    Each of ``fails`` (a spec and one of its bugs) is a known bug: the reference agent with that
    one function broken.
    """
    return CheckSpec(
        name=name,
        function=agent,
        points=points,
        reference=reference,
        visible_cases=cases,
        learning=True,
        bugs=tuple(broken_agent(reference, spec, bug) for spec, bug in fails),
        hint=hint,
    )


def policy_score(state: Any, seed: int, config: Any) -> float:
    """What an on-policy trainer's evaluation gives a trained policy's weights (``state``).

    The policy is rebuilt with rlkit's own networks for the config's env and evaluated by
    rlkit's own :class:`~rlkit.rollouts.Evaluator`, as the trainer (A2C's or PPO's, run with
    ``config`` and ``seed``) evaluates it: the same episodes, seeds, cap and greedy actions.
    Weights that do not fit the network score 0 (nothing was learned).
    """
    import gymnasium as gym

    from rlkit.nets import torch_threads
    from rlkit.rollouts import Evaluator, make_networks

    env = gym.make(config.env_id)
    obs_space, action_space = env.observation_space, env.action_space
    env.close()
    with torch_threads(config.torch_threads):
        policy, _ = make_networks(obs_space, action_space, config.hidden_sizes,
                                  config.value_hidden_sizes,
                                  log_std_init=config.log_std_init,
                                  state_dependent_std=getattr(config, "state_dependent_std",
                                                              False))
        try:
            state = {str(k): torch.as_tensor(np.asarray(v, dtype=np.float32))
                     for k, v in dict(state).items()}
            policy.load_state_dict(state)
        except Exception:  # noqa: BLE001 - not this network's weights: nothing learned
            return 0.0
        evaluator = Evaluator(config.env_id, policy, action_space, seed, config.eval_episodes,
                              config.eval_max_steps, config.eval_deterministic, 0.0)
        return float(evaluator(0).mean)


def on_policy_learning_cases(what: str, config: Any, run_seed: Callable[[int, dict], Any],
                             seeds: tuple[int, ...], cap: float, threshold: float,
                             steps: int) -> list[Case]:
    """The learning case of an on-policy trainer (A2C's, PPO's) on CartPole-v1.

    ``run_seed(seed, settings)`` trains in the box with the config as plain data; the policy's
    weights it returns are scored by :func:`policy_score`.
    """
    sent = dataclasses.asdict(config)
    return [learning_case(f"learning: {what}, up to {steps} env steps from each of the seeds "
                          f"{list(seeds)}", seeds=seeds, cap=cap, threshold=threshold,
                          steps=steps, untrained="an untrained policy gets 9-25",
                          run_seed=lambda seed: run_seed(seed, sent),
                          score=lambda state, seed: policy_score(state, seed, config))]
