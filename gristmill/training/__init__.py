"""Training the models the filters use: the CCNet-style KenLM reference language model
(with a built-in modified Kneser-Ney estimator) and the GPT-3-style fastText quality
classifier. Training shares its text normalisation with the filters that apply the models,
so it imports them; the filters never import training."""
