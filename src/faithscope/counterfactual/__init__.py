"""Counterfactual tests of free-text self-explanations (CT, CCT, φ-CCT; Atanasova et al. 2023,
Siegel et al. 2024, 2025): WordNet interventions, mention detection, a resumable runner and
its tables. Entry point: :func:`faithscope.counterfactual.api.run_counterfactual`."""
