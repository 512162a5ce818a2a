package io.switchboard.router.sla;

/** The three clocks, with their names in JSON and in the store. */
public enum SlaMetric {
    FIRST_RESPONSE("firstResponse"),
    NEXT_RESPONSE("nextResponse"),
    RESOLUTION("resolution");

    private final String wire;

    SlaMetric(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static SlaMetric fromWire(String wire) {
        for (SlaMetric m : values()) {
            if (m.wire.equals(wire)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown SLA metric '" + wire + "'");
    }
}
