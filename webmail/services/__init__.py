"""Rules of the product: who may do what, what is kept, what is traced."""
