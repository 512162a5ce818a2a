package io.switchboard.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** The channels a conversation can arrive on; the lower-case name is the wire and API form. */
public enum Channel {
    EMAIL, TELEGRAM, VK, FACEBOOK, PHONE, WEBFORM;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Channel fromWire(String value) {
        if (value == null) {
            throw new IllegalArgumentException("channel is missing");
        }
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown channel '" + value + "'");
        }
    }
}
