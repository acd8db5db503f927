"""Pli's real development/test mail backend: a project-owned Dovecot + Postfix pair.

`python -m devmail start` runs it from `var/devmail` on 127.0.0.1 (IMAP STARTTLS 10143,
IMAPS 10144, LMTP 10024, SMTP 10025, submission 10587); `python -m devmail seed-demo`
creates the demo accounts dr.martin@pli.test, secretariat.martin@pli.test and
dr.durand@pli.test, all with the password `demo-Pli-2026`.
"""
