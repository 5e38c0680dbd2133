"""``fleet bake``: apply a playbook (or roles) to an image or a root filesystem tree.

- :mod:`fleet.bake.spec`: what to bake (options, validated before anything starts).
- :mod:`fleet.bake.implied`: the implied inventory (one host) and, for ``--role``, play.
- :mod:`fleet.bake.labels`: the labels that record what was applied.
- :mod:`fleet.bake.container`: the bake container (docker SDK): create, boot, reset, commit.
- :mod:`fleet.bake.image`: image → image (apply, verify, commit, clean up).
- :mod:`fleet.bake.rootfs`: directory tree via the chroot transport, and ``--tar``.
"""
