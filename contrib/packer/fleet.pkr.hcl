# Packer builds that converge their machine with fleet (an example: not run in CI).
#
#   packer init contrib/packer
#   packer build -only 'fleet-docker.*' contrib/packer             # docker builder + fleet apply
#   packer build -only 'fleet-bake.*' contrib/packer               # fleet bake does it all
#   packer build -only 'fleet-rootfs.*' -var debian_mirror=URL contrib/packer   # debootstrap + chroot
#
# Run from the repository root (site.yml and roles/ are found there) as a user that may use
# docker; the rootfs build needs root (debootstrap, chroot).

packer {
  required_plugins {
    docker = {
      version = ">= 1.0.8"
      source  = "github.com/hashicorp/docker"
    }
  }
}

variable "base_image" {
  type        = string
  description = <<-EOT
    A local Debian image whose command is systemd (site.yml enables units, which needs a running
    systemd): e.g. the lab's base image, which `fleet lab setup` builds (fleet-lab:bookworm-HASH).
  EOT
}

variable "image_name" {
  type    = string
  default = "fleet-baseline"
}

variable "playbook" {
  type    = string
  default = "site.yml"
}

variable "debian_mirror" {
  type        = string
  default     = ""
  description = "Debian mirror for debootstrap: the URL your /etc/apt/sources.list uses."
}

variable "rootfs_dir" {
  type    = string
  default = "build/rootfs"
}

# 1. Packer's docker builder starts the container (systemd as PID 1, as fleet's lab runs it);
#    fleet applies over the docker connection. build.ID is the container's ID: a one-host
#    inventory ("ID,"). bootstrap_python installs python3 first when the image has none.
source "docker" "debian" {
  image  = var.base_image
  pull   = false
  commit = true
  run_command = [
    "-d", "-i", "-t", "--tmpfs", "/run:rw,mode=755", "--tmpfs", "/run/lock",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "-e", "container=docker",
    "--stop-signal", "SIGRTMIN+3", "--entrypoint", "/sbin/init", "--", "{{.Image}}",
  ]
  changes = [
    "LABEL fleet.bake.playbook=${var.playbook}",
  ]
}

build {
  name    = "fleet-docker"
  sources = ["source.docker.debian"]

  provisioner "shell-local" {
    inline = [
      "fleet apply -c docker -i '${build.ID},' -e ansible_user=root -e bootstrap_python=true ${var.playbook}",
    ]
  }

  post-processor "docker-tag" {
    repository = var.image_name
    tags       = ["packer"]
  }
}

# 2. fleet bake does the container work itself (labels, verify, cleanup on failure);
#    Packer only runs it. Use this when the base image is already local.
source "null" "local" {
  communicator = "none"
}

build {
  name    = "fleet-bake"
  sources = ["source.null.local"]

  provisioner "shell-local" {
    inline = [
      "fleet bake --from ${var.base_image} --tag ${var.image_name}:bake --bootstrap-python --verify ${var.playbook}",
    ]
  }
}

# 3. A root filesystem tree for a VM or container image: debootstrap, then fleet bake through
#    chroot, packed as a tarball (e.g. for `docker import` or a disk image builder). Nothing
#    runs in a chroot: give it a playbook without tasks that need a running systemd, /proc
#    or sshd host keys (README: "What does not work in a chroot"), e.g. -var playbook=rootfs.yml.
build {
  name    = "fleet-rootfs"
  sources = ["source.null.local"]

  provisioner "shell-local" {
    inline = [
      "test -n '${var.debian_mirror}' || { echo 'set -var debian_mirror=URL (your apt mirror)' >&2; exit 1; }",
      "debootstrap --variant=minbase --include=python3,systemd-sysv bookworm ${var.rootfs_dir} ${var.debian_mirror}",
      "fleet bake --rootfs ${var.rootfs_dir} --tar ${var.rootfs_dir}.tar.zst ${var.playbook}",
    ]
  }
}
