"""
The Scrapy peer of the benchmark: crawls the generated site the way the cluster's link spider does
(follow every link of pages above maxdepth, LinkExtractor with Scrapy's default deny extensions), throttle
off, robots.txt obeyed, one item per page written as JSON lines (the cluster writes each page to Kafka).
    python bench/scrapy/run.py '{"seeds": [...], "maxdepth": 3, "concurrency": 16, "out": ".bench/scrapy-items.jl"}'
Prints one JSON line: {pages, seconds, pages_per_s, items, scrapy}. Timing: from the spider opening (the
first request is scheduled) to the last page response, as the cluster's is from the first feed to the last page.
"""
import json
import sys
import time

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor

opts = json.loads(sys.argv[1])
state = {"t0": None, "last": None, "pages": 0, "items": 0}


class BenchSpider(scrapy.Spider):
    name = "bench"
    link_extractor = LinkExtractor()

    async def start(self):
        for url in opts["seeds"]:
            yield scrapy.Request(url)

    def parse(self, response):
        links = self.link_extractor.extract_links(response)
        yield {
            "url": response.request.url,
            "response_url": response.url,
            "status_code": response.status,
            "response_headers": {k.decode(): [v.decode() for v in vs] for k, vs in response.headers.items()},
            "body": response.text,
            "encoding": response.encoding,
            "links": [{"url": link.url, "text": link.text} for link in links],
        }
        for link in links:
            yield response.follow(link.url, callback=self.parse)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.received, signal=signals.response_received)
        crawler.signals.connect(spider.scraped, signal=signals.item_scraped)
        return spider

    def opened(self, spider):
        state["t0"] = time.perf_counter()

    def received(self, response, request, spider):
        if not response.url.endswith("/robots.txt"):
            state["pages"] += 1
            state["last"] = time.perf_counter()

    def scraped(self, item, response, spider):
        state["items"] += 1


process = CrawlerProcess(
    settings={
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": opts["concurrency"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": opts["concurrency"],
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "DEPTH_LIMIT": opts["maxdepth"],
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "USER_AGENT": "scrapy-cluster-ts-bench/scrapy",
        "CLOSESPIDER_TIMEOUT": opts.get("timeoutS", 600),
        "FEEDS": {opts["out"]: {"format": "jsonlines", "overwrite": True}},
    }
)
process.crawl(BenchSpider)
process.start()
seconds = (state["last"] or time.perf_counter()) - (state["t0"] or time.perf_counter())
print(json.dumps({
    "pages": state["pages"],
    "items": state["items"],
    "seconds": round(seconds, 3),
    "pages_per_s": round(state["pages"] / seconds, 1) if seconds > 0 else None,
    "scrapy": scrapy.__version__,
}), flush=True)
