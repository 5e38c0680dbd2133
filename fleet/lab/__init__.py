"""The container lab: real Debian hosts (systemd, sshd) in docker, built without registry pulls."""
