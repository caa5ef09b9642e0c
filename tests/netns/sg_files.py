#!/usr/bin/env python3
"""sg_files.py DIR PASV_LO PASV_HI - cloud security-group files for the
sg scenario, in each provider's documented CLI JSON shape (AWS
describe-security-groups, az network nsg show, gcloud compute
firewall-rules list --format=json).  For each provider two groups: one
that opens only the control port and the control channel ("missing": it
lacks the passive range) and one that opens the passive range too
("open").  Generated, never hand-edited; documentation addresses only.
"""
import json
import os
import sys


def aws(name, lo, hi, open_pasv):
    perms = [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p,
              "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
              "PrefixListIds": [], "UserIdGroupPairs": []}
             for p in (21, 7021)]
    if open_pasv:
        perms.append({"IpProtocol": "tcp", "FromPort": lo, "ToPort": hi,
                      "IpRanges": [{"CidrIp": "198.51.100.0/24"}],
                      "Ipv6Ranges": [], "PrefixListIds": [],
                      "UserIdGroupPairs": []})
    return {"SecurityGroups": [{
        "Description": "ftpath test group", "GroupName": name,
        "GroupId": "sg-0f7a" + ("1" if open_pasv else "0") * 12,
        "OwnerId": "123456789012", "VpcId": "vpc-0123456789abcdef0",
        "IpPermissions": perms,
        "IpPermissionsEgress": [{"IpProtocol": "-1",
                                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                 "Ipv6Ranges": [], "PrefixListIds": [],
                                 "UserIdGroupPairs": []}]}]}


def az_rule(name, prio, direction, access, port, src="*"):
    return {"name": name, "priority": prio, "direction": direction,
            "access": access, "protocol": "Tcp" if port != "*" else "*",
            "sourceAddressPrefix": src, "sourceAddressPrefixes": [],
            "sourcePortRange": "*", "sourcePortRanges": [],
            "destinationAddressPrefix": "*",
            "destinationAddressPrefixes": [],
            "destinationPortRange": port, "destinationPortRanges": []}


def azure(name, lo, hi, open_pasv):
    rules = [az_rule("AllowFTP", 300, "Inbound", "Allow", "21"),
             az_rule("AllowFtpath", 310, "Inbound", "Allow", "7021")]
    if open_pasv:
        rules.append(az_rule("AllowPassive", 320, "Inbound", "Allow",
                             "%d-%d" % (lo, hi), "198.51.100.0/24"))
    defaults = [
        az_rule("AllowVnetInBound", 65000, "Inbound", "Allow", "*",
                "VirtualNetwork"),
        az_rule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow",
                "*", "AzureLoadBalancer"),
        az_rule("DenyAllInBound", 65500, "Inbound", "Deny", "*"),
        az_rule("AllowVnetOutBound", 65000, "Outbound", "Allow", "*",
                "VirtualNetwork"),
        az_rule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*"),
        az_rule("DenyAllOutBound", 65500, "Outbound", "Deny", "*")]
    return {"name": name, "location": "westeurope",
            "resourceGroup": "ftp-rg", "type":
            "Microsoft.Network/networkSecurityGroups",
            "securityRules": rules, "defaultSecurityRules": defaults}


def gcp(name, lo, hi, open_pasv):
    net = ("https://www.googleapis.com/compute/v1/projects/ftp-project/"
           "global/networks/" + name)
    rules = [{"name": name + "-allow-ftp", "network": net,
              "direction": "INGRESS", "priority": 1000, "disabled": False,
              "allowed": [{"IPProtocol": "tcp", "ports": ["21", "7021"]}],
              "sourceRanges": ["0.0.0.0/0"], "kind": "compute#firewall"}]
    if open_pasv:
        rules.append({"name": name + "-allow-pasv", "network": net,
                      "direction": "INGRESS", "priority": 1000,
                      "disabled": False,
                      "allowed": [{"IPProtocol": "tcp",
                                   "ports": ["%d-%d" % (lo, hi)]}],
                      "sourceRanges": ["198.51.100.0/24"],
                      "kind": "compute#firewall"})
    return rules


def main():
    out, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for prov, make in (("aws", aws), ("azure", azure), ("gcp", gcp)):
        for mode in ("missing", "open"):
            path = os.path.join(out, "%s-%s.json" % (prov, mode))
            with open(path, "w") as f:
                json.dump(make("ftp-" + mode, lo, hi, mode == "open"), f,
                          indent=2)
    with open(os.path.join(out, "aws-missing.json")) as f:
        text = f.read()
    with open(os.path.join(out, "truncated.json"), "w") as f:
        f.write(text[: len(text) // 2])


if __name__ == "__main__":
    main()
