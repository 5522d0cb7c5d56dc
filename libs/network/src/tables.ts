/**
 * br-int's OpenFlow tables, in the order a frame from an instance meets them:
 * - ADMISSION (0): port security; frames from other ports (an uplink) go straight to CLASSIFY.
 * - EGRESS (21): the sending port's security groups, after conntrack.
 * - CLASSIFY (30): IPv4 bound for a local port with security groups goes through conntrack into INGRESS.
 * - INGRESS (31): the receiving port's security groups.
 * - FORWARDING (10): a port's rate meter, then NORMAL switching.
 */
export const ADMISSION_TABLE = 0;
export const FORWARDING_TABLE = 10;
export const EGRESS_TABLE = 21;
export const CLASSIFY_TABLE = 30;
export const INGRESS_TABLE = 31;
