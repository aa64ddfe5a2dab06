"""numpy2gpt.gpt: a nanoGPT-class GPT built on numpy2gpt."""
