# shellcheck shell=bash
# SSH between the lab's nodes, as repmgr's switchover needs it (it runs
# repmgr on the old primary over ssh). Each node gets an sshd of the lab's
# own, inside its namespace on its own address: a host key, an authorized
# key and a known_hosts made for this lab in $LAB_DIR/ssh, so nothing of the
# machine's own ssh setup (~postgres/.ssh, /etc/ssh) is read or changed.
# sshd runs as root: its configuration, pid file and log are in root's
# $LAB_DIR/ssh/<node>, never in the node's directory (postgres's).
# Sourced by test/lab/repmgr.sh.

ssh_dir() { printf '%s/ssh' "$LAB_DIR"; }

# What repmgr passes to ssh (ssh_options): the lab's key and known_hosts.
ssh_lab_options() {
  printf '%s' "-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i $(ssh_dir)/id_ed25519 -o UserKnownHostsFile=$(ssh_dir)/known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=5"
}

ssh_keys() {
  local d n
  d=$(ssh_dir)
  mkdir -p "$d"
  chmod 755 "$d"
  ssh-keygen -q -t ed25519 -N '' -C pg_vip-lab-host -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -C pg_vip-lab-postgres -f "$d/id_ed25519"
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  chown -h postgres: "$d/id_ed25519" "$d/id_ed25519.pub"
  : >"$d/known_hosts"
  for n in node-a node-b; do
    printf '%s %s\n' "$(host_addr "$n")" "$(cut -d' ' -f1,2 "$d/host_key.pub")" >>"$d/known_hosts"
  done
  chmod 644 "$d/known_hosts" "$d/authorized_keys"
}

sshd_start() {  # name
  local name=$1 own sshd_conf
  own=$(ssh_dir)/$name
  sshd_conf=$own/sshd_config
  install -d -m 700 "$own"
  cat >"$sshd_conf" <<CONF
ListenAddress $(host_addr "$name")
Port 22
HostKey $(ssh_dir)/host_key
AuthorizedKeysFile $(ssh_dir)/authorized_keys
AllowUsers postgres
PasswordAuthentication no
KbdInteractiveAuthentication no
# postgres has no password (a locked account): sshd lets such an account in by key
# only when PAM, not sshd itself, judges the account.
UsePAM yes
StrictModes no
PidFile $own/sshd.pid
CONF
  mkdir -p /run/sshd  # sshd's privilege separation directory
  ip netns exec "$(ns_of "$name")" /usr/sbin/sshd -f "$sshd_conf" -E "$own/sshd.log"
}

ssh_up() {
  command -v /usr/sbin/sshd >/dev/null || { echo "the lab's switchover needs openssh-server"; return 1; }
  ssh_keys
  sshd_start node-a
  sshd_start node-b
}
