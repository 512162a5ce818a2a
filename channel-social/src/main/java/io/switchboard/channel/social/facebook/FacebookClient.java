package io.switchboard.channel.social.facebook;

import io.switchboard.contract.ContractJson;
import org.springframework.http.MediaType;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Calls the Send API (https://developers.facebook.com/docs/messenger-platform/reference/send-api/):
 * {@code POST <graph-url>/me/messages?access_token=...}. The URL carries the page token, so it is
 * never logged nor put in an exception message.
 */
class FacebookClient {

    private final RestClient http;

    FacebookClient(RestClient.Builder builder) {
        SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
        factory.setConnectTimeout(Duration.ofSeconds(5));
        factory.setReadTimeout(Duration.ofSeconds(30));
        this.http = builder.requestFactory(factory).build();
    }

    /**
     * The outcome of one call: the answer on success, else the Graph error's code, subcode and message
     * (https://developers.facebook.com/docs/messenger-platform/error-codes), or an HTTP status / network failure.
     */
    record Result(int httpStatus, JsonNode body, int code, int subcode, String message) {

        boolean ok() {
            return httpStatus >= 200 && httpStatus < 300 && code == 0;
        }

        /** 4 / 32 / 613 rate limits, 1 / 2 temporary errors, 5xx without a Graph error, I/O. */
        boolean transientFailure() {
            return !ok() && (code == 4 || code == 32 || code == 613 || code == 1 || code == 2
                    || (code == 0 && (httpStatus >= 500 || httpStatus == 0)));
        }

        /** The 24-hour standard messaging window is over (code 10, subcode 2018278). */
        boolean outsideWindow() {
            return code == 10 || subcode == 2018278 || code == 2018278;
        }
    }

    Result sendMessage(FacebookProperties.Account page, Map<String, Object> request) {
        String url = UriComponentsBuilder.fromUriString(page.baseUrl().toString().replaceAll("/+$", "") + "/me/messages")
                .queryParam("access_token", page.pageAccessToken()).encode().build().toUriString();
        try {
            return http.post().uri(java.net.URI.create(url)).contentType(MediaType.APPLICATION_JSON).body(ContractJson.toBytes(request))
                    .exchange((req, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes()));
        } catch (RuntimeException e) {
            return new Result(0, null, 0, 0, "network error calling the Graph API: " + rootType(e));
        }
    }

    private static Result parse(int status, byte[] body) {
        try {
            JsonNode json = ContractJson.mapper().readTree(new String(body, StandardCharsets.UTF_8));
            if (json.has("error")) {
                JsonNode error = json.path("error");
                return new Result(status, json, error.path("code").asInt(0), error.path("error_subcode").asInt(0),
                        error.path("message").asString("Graph API error"));
            }
            return new Result(status, json, 0, 0, status >= 300 ? "Graph API answered HTTP " + status : null);
        } catch (RuntimeException e) {
            return new Result(status, null, 0, 0, "Graph API answered HTTP " + status + " without a JSON body");
        }
    }

    private static String rootType(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName();
    }
}
